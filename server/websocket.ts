// GET /ws: a WebSocket that a restart hands over without a gap, the twin of
// /events. Each message is `N PID`, N counting one per `every` ms since the
// epoch (events.ts), so any server of the port continues any client's
// sequence: a client that reconnects with a Last-Event-ID header gets every
// number after it at once, then one per tick. At drain (drain.ts, line 9) the
// server sends what is due and closes with 1012 Service Restart; the client
// comes back to whichever server the port routes it to.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { eventId, firstId, readEvery } from './events.js';

/** RFC 6455 section 7.4.1 and the IANA registry: the server is restarting, the client may reconnect. */
export const SERVICE_RESTART = 1012;

export interface SocketStream {
  /** Sends what is due, then closes with 1012: the drain's graceful end. */
  end(): void;
}

export interface UpgradeContext {
  pid: number;
  /** Hands the upgraded connection to the drain, which calls `end` (drain.ts, line 9). */
  holdSocket: (socket: Duplex, end: () => void) => void;
}

/** Refuses an upgrade before the handshake, with a status line and a reason. */
function refuse(socket: Duplex, status: string, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

/** Creates the handler for the HTTP server's 'upgrade' event: /ws?every=MS, anything else 404. */
export function createUpgradeHandler(
  context: UpgradeContext,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  // No compression: the messages are a few bytes, and deflate state per connection costs memory.
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  return (req, socket, head) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path !== '/ws') return refuse(socket, '404 Not Found', 'not found\n');
    const everyMs = readEvery(query === -1 ? '' : url.slice(query + 1));
    if (typeof everyMs === 'string') return refuse(socket, '400 Bad Request', `${everyMs}\n`);
    sockets.handleUpgrade(req, socket, head, (ws) => {
      const stream = streamMessages(req, ws, { pid: context.pid, everyMs });
      context.holdSocket(socket, () => stream.end());
    });
  };
}

/** Sends `N PID` messages on `ws`, starting after the client's Last-Event-ID when it sends one, else at the current number. */
function streamMessages(req: IncomingMessage, ws: WebSocket, options: { pid: number; everyMs: number }): SocketStream {
  const { pid, everyMs } = options;
  let next = firstId(req.headers['last-event-id'], everyMs);
  const due = () => {
    const upTo = eventId(Date.now(), everyMs);
    for (; next <= upTo; next++) ws.send(`${next} ${pid}`);
  };
  due();
  const timer = setInterval(due, everyMs);
  ws.on('close', () => clearInterval(timer));
  // A client that goes away mid-frame is the close above; nothing to log per client.
  ws.on('error', () => {});
  return {
    end() {
      clearInterval(timer);
      if (ws.readyState !== ws.OPEN) return;
      due();
      ws.close(SERVICE_RESTART, 'server restart');
    },
  };
}
