// Where the listening socket comes from: systemd socket activation when
// LISTEN_FDS names this process, else our own SO_REUSEPORT socket.
import { statSync } from 'node:fs';
import {
  clearReusePortSteering,
  inspectSocket,
  listenReusePort,
  type SocketInfo,
  takeListener,
} from '../native/index.js';
import { ConfigError, type ServerConfig } from './config.js';
import { TAKE_TIMEOUT_MS } from './handoff.js';

/** sd_listen_fds(3): passed sockets start at fd 3. */
export const SD_LISTEN_FDS_START = 3;

export interface Listener {
  fd: number;
  /** How the socket was obtained; reported by /info and the logs. */
  source: 'systemd' | 'reuseport' | 'handoff';
  info: SocketInfo;
  /**
   * A steering program left on the port's group by a server that drained
   * (steer.ts) was detached right after listen(), so the kernel's hash
   * spreads new connections over this listener and the others again.
   */
  clearedSteering: boolean;
  /** With HANDOFF_FROM: why the port was bound instead (nothing offered there: a cold start). */
  handoffNote?: string;
}

/** Returns a listening socket fd for `server.listen({ fd })`. */
export function obtainListener(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): Listener {
  if (config.listenFds !== undefined) {
    const fd = SD_LISTEN_FDS_START;
    // Children (if any) must not believe the sockets are theirs.
    delete env.LISTEN_FDS;
    delete env.LISTEN_PID;
    delete env.LISTEN_FDNAMES;
    let info: SocketInfo;
    try {
      info = inspectSocket(fd);
    } catch (error) {
      throw new ConfigError(
        `LISTEN_FDS is set but fd ${fd} is not usable (${(error as Error).message}); check the .socket unit`,
      );
    }
    if (!info.listening || info.type !== 'stream') {
      throw new ConfigError(
        `fd ${fd} passed by systemd is not a listening stream socket; use ListenStream= in the .socket unit`,
      );
    }
    return { fd, source: 'systemd', info, clearedSteering: false };
  }
  let handoffNote: string | undefined;
  if (config.handoffFrom !== undefined) {
    try {
      // Taken only from a server of this user: the offerer checks the taker's uid, the taker the offer's.
      const offered = statSync(config.handoffFrom, { throwIfNoEntry: false });
      const uid = process.getuid?.();
      if (offered && uid !== undefined && offered.uid !== uid) {
        throw new ConfigError(
          `the socket offered at ${config.handoffFrom} belongs to uid ${offered.uid}, not to this server's (uid ${uid}): a listener is taken from a server of the same user only; check HANDOFF_FROM`,
        );
      }
      const fd = takeListener(config.handoffFrom, TAKE_TIMEOUT_MS);
      const info = inspectSocket(fd);
      // The listener this server would have bound: the same port, and the same address (0.0.0.0 is not 127.0.0.1).
      if (
        !info.listening ||
        info.type !== 'stream' ||
        (config.port !== 0 && info.port !== config.port) ||
        info.address !== config.host
      ) {
        throw new ConfigError(
          `the socket offered at ${config.handoffFrom} is not a stream listener on ${config.host}:${config.port} (${JSON.stringify(info)}); check HANDOFF_FROM`,
        );
      }
      return { fd, source: 'handoff', info, clearedSteering: false };
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      // Nobody offers there (a cold start, or the old server is gone): bind as usual.
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED')
        throw new ConfigError(`cannot take the listener from ${config.handoffFrom}: ${(error as Error).message}`);
      handoffNote = `nothing offered at ${config.handoffFrom} (${code}): bound the port`;
    }
  }
  try {
    const fd = listenReusePort(config.host, config.port, config.backlog);
    return { fd, source: 'reuseport', info: inspectSocket(fd), clearedSteering: clearSteering(fd), handoffNote };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'EADDRINUSE'
        ? ': another process holds the port without SO_REUSEPORT; stop it or choose another PORT'
        : code === 'EACCES'
          ? ': ports below 1024 need privileges; choose PORT 1024 or above'
          : '';
    throw new ConfigError(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}${hint}`);
  }
}

/** Detaches the group's steering program right after listen(); false when none, or where the kernel has none to detach. */
function clearSteering(fd: number): boolean {
  try {
    return clearReusePortSteering(fd);
  } catch {
    return false;
  }
}
