// Server-Sent Events for the stream lane (stream-lane.ts), as a browser's
// EventSource reads them: events are blocks ended by a blank line, `id:` numbers
// them, `retry:` sets the pause before a reconnect, which sends Last-Event-ID.
// A stream that stops mid-response was cut, or reset when the connection's
// error or the kernel (peer-reset.ts) says so.
import type http from 'node:http';
import { onResetAtEof } from './peer-reset.js';
import { getFor, tlsOptions } from './tls.js';
import {
  type Ending,
  type OpenStream,
  type RunningStreams,
  startStreamLane,
  type StreamLaneOptions,
} from './stream-lane.js';

export function startSseLane(options: StreamLaneOptions): RunningStreams {
  return startStreamLane(options, openSse(options));
}

function openSse(options: StreamLaneOptions): OpenStream {
  return ({ lastId, message, retry, track }) =>
    new Promise<Ending>((resolve) => {
      const end = (how: Ending['how']) => {
        untrack();
        resolve({ how });
      };
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (lastId !== undefined) headers['Last-Event-ID'] = String(lastId);
      let responded = false;
      let reset = false;
      const secure = options.tls ? tlsOptions(options.tls, options.host) : {};
      const request = getFor(options.tls)(
        { host: options.host, port: options.port, path: options.path, headers, agent: false, ...secure },
        (response: http.IncomingMessage) => {
          responded = true;
          if (response.statusCode !== 200) {
            response.resume();
            return end('error');
          }
          let rest = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            const blocks = (rest + chunk).split('\n\n');
            rest = blocks.pop()!;
            for (const block of blocks) {
              const retryMs = /^retry: ?(\d+)$/m.exec(block);
              if (retryMs) retry(Number(retryMs[1]));
              if (!/^data:/m.test(block)) continue;
              const id = /^id: ?(.*)$/m.exec(block)?.[1];
              message(id !== undefined && /^\d+$/.test(id) ? Number(id) : undefined);
            }
          });
          const broken = () => (reset ? 'reset' : 'cut');
          response.on('end', () => end(rest.trim() ? broken() : 'end'));
          // A response whose connection closed before its end: Node says 'aborted', and no 'end' comes.
          response.on('close', () => end(response.complete && !rest.trim() ? 'end' : broken()));
          response.on('error', () => {}); // 'aborted': the 'close' above says it
        },
      );
      const untrack = track(() => request.destroy());
      request.on('socket', (socket) => onResetAtEof(socket, () => (reset = true)));
      request.on('close', () => {
        // With a response, the response says how it ended; without one (destroyed at stop), this ends the wait.
        if (!responded) end('reset');
      });
      request.on('error', (error: NodeJS.ErrnoException) =>
        end(error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ECONNRESET' ? 'reset' : 'error'),
      );
    });
}
