/**
 * Accept every queued connection, not one per event-loop turn.
 *
 * Node's event loop accepts exactly one connection each time the listener
 * is reported readable, that is once per turn of the loop (libuv's
 * uv__server_io; seen with strace on Node 20 and 24: one accept4 between
 * two epoll_pwait, never an EAGAIN). A turn that serves fifty keep-alive
 * requests takes 15-25 ms on a busy machine, so new connections are let in
 * at 40-60 a second however many wait: a load of fifty new-connection clients then
 * sits in the kernel's accept queue (ss showed 48 of 50 there), and a
 * request waits there for up to a second. That is what a switchover looks
 * like under load when CPU is short (the new server starting, the old one
 * draining): keep-alive answered in 100 ms, new connections in 1,000.
 *
 * So whenever Node accepts one, the rest of the queue is accepted with it
 * (acceptPending, native addon) and each connection is handed to the server
 * as Node's own accept would: a net.Socket on the fd, counted as the
 * server's, then 'connection'. The batch is bounded, so a flood of new
 * connections cannot hold the loop for long either. BENCHMARKS.md,
 * "Accept what is queued", has the figures.
 */
import { closeSync } from 'node:fs';
import net from 'node:net';
import { acceptPending } from '../native/index.js';

/** What acceptEagerly needs of the server's fields; Node's own accept (onconnection, lib/net.js) uses the same. */
interface CountedServer extends net.Server {
  _connections: number;
  allowHalfOpen: boolean;
}

interface CountedSocket extends net.Socket {
  server: net.Server;
  _server: net.Server;
}

/**
 * From now on, every connection Node accepts on `server` brings in up to
 * `batch` more from the listener `fd` (the one the server listens on).
 * Returns a function that stops it. Accept errors (out of fds) are left to
 * Node's own next accept, which sheds load its way; nothing here throws
 * into the event loop.
 */
export function acceptEagerly(
  server: net.Server,
  fd: number,
  batch: number,
  onError: (error: Error) => void = () => {},
): () => void {
  let adopting = false;
  const adopt = (peer: number) => {
    const socket = new net.Socket({
      fd: peer,
      readable: true,
      writable: true,
      allowHalfOpen: (server as CountedServer).allowHalfOpen,
    }) as CountedSocket;
    // As Node's own accept does: net.Server.close() calls back once its
    // connection count is back to 0, and a socket with _server counts down
    // when it closes. Without this the drain would end before these
    // connections did.
    socket.server = server;
    socket._server = server;
    (server as CountedServer)._connections++;
    // http.createServer's default (noDelay: true), applied by Node to the connections it accepts.
    socket.setNoDelay(true);
    server.emit('connection', socket);
  };
  const onConnection = () => {
    // The connections handed over below emit 'connection' too.
    if (adopting || !server.listening) return;
    adopting = true;
    try {
      for (const peer of acceptPending(fd, batch)) {
        try {
          adopt(peer);
        } catch (error) {
          closeQuietly(peer);
          onError(error as Error);
        }
      }
    } catch (error) {
      onError(error as Error);
    } finally {
      adopting = false;
    }
  };
  server.on('connection', onConnection);
  return () => server.off('connection', onConnection);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed by the socket that failed to take it.
  }
}
