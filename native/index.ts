// Typed face of the native addon (native/reuseport.cc), loaded by
// node-gyp-build: a build of this checkout (build/Release) first, else the
// prebuilt one an installed package carries (prebuilds/linux-x64).
// ESM cannot `import` a .node file on Node 20, hence createRequire.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `inspectSocket` reports about a file descriptor. */
export interface SocketInfo {
  listening: boolean;
  reusePort: boolean;
  type: 'stream' | 'dgram' | 'other';
  family: 'IPv4' | 'IPv6' | 'unix' | 'other';
  address?: string;
  port?: number;
}

interface Addon {
  listenReusePort(host: string, port: number, backlog: number): number;
  sdNotify(socketPath: string, state: string): void;
  inspectSocket(fd: number): SocketInfo;
  steerReusePort(fd: number, index: number): void;
  clearReusePortSteering(fd: number): boolean;
  takeSocketError(fd: number): string | null;
  acceptQueueLength(fd: number): number;
  acceptPending(fd: number, max: number): number[];
  ListenerOffer: new (path: string, fd: number, onTaken: (taken: ListenerTaken) => void) => { close(): void };
  takeListener(path: string, timeoutMs: number): number;
}

/** Who asked an offer for the listener, and whether it got it (only a process of the same user does). */
export interface ListenerTaken {
  pid: number;
  uid: number;
  given: boolean;
}

const require = createRequire(import.meta.url);

/** The package's root: the same file runs from native/ (vitest) and dist/native/ (built, installed, in the image). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function loadAddon(): Addon {
  const load = require('node-gyp-build') as (dir: string) => unknown;
  try {
    return load(packageRoot()) as Addon;
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new Error(
      `reuseport-lab's native addon is not there for ${process.platform}-${process.arch} (${reason}); install g++, make and python3 and run npm rebuild reuseport-lab (npm ci in a clone)`,
      { cause: error },
    );
  }
}

const addon = loadAddon();

/** Default listen backlog, as Node's own `server.listen`. */
export const DEFAULT_BACKLOG = 511;

/**
 * Opens a listening TCP socket on a numeric host and port with SO_REUSEADDR
 * and SO_REUSEPORT set, and returns its fd for `server.listen({ fd })`.
 * Throws an Error with `code` (e.g. EADDRINUSE) and `syscall` on failure.
 */
export function listenReusePort(host: string, port: number, backlog = DEFAULT_BACKLOG): number {
  return addon.listenReusePort(host, port, backlog);
}

/** Sends one state datagram (e.g. "READY=1") to a notify socket path or @abstract name. */
export function sdNotify(socketPath: string, state: string): void {
  addon.sdNotify(socketPath, state);
}

/** Describes an open socket fd: listening or not, SO_REUSEPORT, family, address, port. */
export function inspectSocket(fd: number): SocketInfo {
  return addon.inspectSocket(fd);
}

/**
 * Sends every new connection of fd's SO_REUSEPORT group to the listener at
 * `index` of the group (a one-instruction classic BPF program; server/steer.ts
 * explains the order). An index past the group's end falls back to the
 * kernel's hash. Throws with `code` where the kernel refuses (ENOPROTOOPT off
 * Linux).
 */
export function steerReusePort(fd: number, index: number): void {
  addon.steerReusePort(fd, index);
}

/** Detaches the steering program of fd's group; true when there was one. Call right after listen(). */
export function clearReusePortSteering(fd: number): boolean {
  return addon.clearReusePortSteering(fd);
}

/**
 * The error the kernel holds for socket `fd` (SO_ERROR) by its errno name,
 * e.g. ECONNRESET, or null when none; reading it clears it. libuv turns a
 * reset that comes together with the connection's last data into a plain
 * EOF without reading the error (harness/load/peer-reset.ts): this is what
 * tells that reset from a FIN.
 */
export function takeSocketError(fd: number): string | null {
  return addon.takeSocketError(fd);
}

/** Connections completed by the kernel for this listener and not yet accepted (Linux). */
export function acceptQueueLength(fd: number): number {
  return addon.acceptQueueLength(fd);
}

/**
 * Accepts up to `max` connections already queued on the non-blocking
 * listener `fd`, without waiting; returns their fds (non-blocking,
 * close-on-exec), none when the queue is empty. Throws with `code` when
 * nothing could be accepted for an error (EMFILE, EBADF...), and a TypeError
 * for a blocking fd, whose accept would stall the event loop.
 */
export function acceptPending(fd: number, max: number): number[] {
  return addon.acceptPending(fd, max);
}

/** A listening socket offered to newer servers until close(). */
export interface ListenerOffer {
  /** Stops offering and removes the socket path. Safe to call more than once. */
  close(): void;
}

/**
 * Offers the listener `fd` on a unix socket at `path` (mode 0600): every
 * process of the same user that connects gets a copy of the fd (SCM_RIGHTS)
 * and `onTaken` hears of it; others get nothing. Runs on Node's event loop.
 */
export function offerListener(path: string, fd: number, onTaken: (taken: ListenerTaken) => void): ListenerOffer {
  return new addon.ListenerOffer(path, fd, onTaken);
}

/**
 * Takes the listener an offer at `path` sends, waiting up to `timeoutMs`;
 * returns its fd. Blocks: call it before the server serves. Throws with
 * `code` ENOENT or ECONNREFUSED when nobody offers there.
 */
export function takeListener(path: string, timeoutMs: number): number {
  return addon.takeListener(path, timeoutMs);
}
