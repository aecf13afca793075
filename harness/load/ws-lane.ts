// WebSockets for the stream lane (stream-lane.ts), through `ws`. A message's
// number is its `seq` or `id` when it is a JSON object, else the whole
// number it starts with, up to a space (this project's server sends
// `N PID`); a reconnect sends the last number as a Last-Event-ID header, as
// SSE does, for a server that can resume (ours can). How a socket ended: its
// close frame's code, or, with no close frame (1006), a reset or a plain
// EOF, told apart by the connection's own error or, when libuv passed the
// reset off as an EOF, by the kernel's (peer-reset.ts).
import WebSocket from 'ws';
import { onResetAtEof } from './peer-reset.js';
import {
  type Ending,
  type OpenStream,
  type RunningStreams,
  startStreamLane,
  type StreamLaneOptions,
} from './stream-lane.js';
import { tlsOptions } from './tls.js';

export function startWsLane(options: StreamLaneOptions): RunningStreams {
  return startStreamLane(options, openWs(options));
}

/** A message's number, or undefined when it has none. */
export function messageNumber(data: WebSocket.RawData, isBinary: boolean): number | undefined {
  if (isBinary) return undefined;
  const text = String(data);
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { id?: unknown; seq?: unknown };
      const id = parsed.seq ?? parsed.id;
      return Number.isSafeInteger(id) && (id as number) >= 0 ? (id as number) : undefined;
    } catch {
      return undefined;
    }
  }
  const leading = /^(\d{1,15})(?=\s|$)/.exec(text);
  return leading ? Number(leading[1]) : undefined;
}

/** No close frame came: the connection's own error, when it had one, says a reset from an EOF. */
const NO_CLOSE_FRAME = 1006;

function openWs(options: StreamLaneOptions): OpenStream {
  const url = `${options.tls ? 'wss' : 'ws'}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}${options.path}`;
  const secure = options.tls ? tlsOptions(options.tls, options.host) : {};
  return ({ lastId, message, track }) =>
    new Promise<Ending>((resolve) => {
      let ended = false;
      const end = (ending: Ending) => {
        if (ended) return;
        ended = true;
        untrack();
        resolve(ending);
      };
      const headers = lastId === undefined ? {} : { 'Last-Event-ID': String(lastId) };
      // No compression: the lane measures the handover, not deflate.
      const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 10_000, ...secure });
      const untrack = track(() => ws.terminate());
      let connectionError: string | undefined;
      ws.on('upgrade', (response) => {
        response.socket.on('error', (error: NodeJS.ErrnoException) => (connectionError = error.code));
        onResetAtEof(response.socket, () => (connectionError ??= 'ECONNRESET'));
      });
      ws.on('message', (data, isBinary) => message(messageNumber(data, isBinary)));
      ws.on('unexpected-response', (request, response) => {
        response.resume();
        request.destroy();
        end({ how: 'error' });
      });
      ws.on('error', (error: NodeJS.ErrnoException) => {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CLOSING) return; // the 'close' says how
        end({ how: error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ECONNRESET' ? 'reset' : 'error' });
      });
      ws.on('close', (code) => {
        if (code !== NO_CLOSE_FRAME) return end({ how: 'close', code });
        end({ how: connectionError === 'ECONNRESET' ? 'reset' : 'cut' });
      });
    });
}
