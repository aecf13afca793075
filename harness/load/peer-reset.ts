// Whether a connection that ended in an EOF was in fact reset by its peer.
//
// libuv reads a socket until a short read; when epoll also reported a hang-up
// in that wake-up, it calls the stream ended without reading again
// (uv__stream_io's POLLHUP short-circuit). A reset that arrives together with
// the connection's last data, as when a server writes and then closes with
// SO_LINGER 0 or with input it never read, therefore reaches Node as a plain
// 'end', and the ECONNRESET stays unread in the kernel. A FIN leaves no error
// there, so asking the kernel at 'end' tells the two apart.
//
// The asking is the native addon's (SO_ERROR). The harness runs without the
// addon where an installed package has none (README, "Install it"): there
// such a reset reads as an EOF, as Node says it.
import type net from 'node:net';

const takeSocketError = await import('../../native/index.js').then(
  (addon) => addon.takeSocketError,
  () => undefined,
);

/** The fd under a socket (a TLS socket's handle gives its TCP connection's); undefined once closed. */
function fdOf(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Whether the EOF `socket` just reported was a reset. Ask in an 'end'
 * listener, while the fd is open; the answer is the kernel's, once.
 */
export function resetAtEof(socket: net.Socket): boolean {
  const fd = fdOf(socket);
  if (fd === undefined || takeSocketError === undefined) return false;
  try {
    return takeSocketError(fd) === 'ECONNRESET';
  } catch {
    return false; // not a socket any more: nothing to tell
  }
}

/**
 * Calls `onReset` when `socket` ends in an EOF that was a reset. Its
 * listener goes first: Node's HTTP client destroys the socket in its own.
 */
export function onResetAtEof(socket: net.Socket, onReset: () => void): void {
  socket.prependOnceListener('end', () => {
    if (resetAtEof(socket)) onReset();
  });
}
