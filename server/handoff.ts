/**
 * Handoff: the listening socket passed from server to server, never closed.
 *
 *  1. Every server offers its listener, once it listens, on a unix socket of
 *     its own, $STATE_DIR/handoff/<pid>-<start>.sock (named like its ready
 *     marker; mode 0600): a process of the same user that connects gets a
 *     copy of the fd (SCM_RIGHTS). It stops offering when its drain begins.
 *  2. A server started with HANDOFF_FROM=<that path> takes the listener from
 *     there instead of binding the port (listener.ts): both then accept from
 *     one socket and one accept queue, so there is nothing for the kernel to
 *     route, migrate or drop between them.
 *  3. The old server's drain closes only its own copy of the fd: the socket
 *     stays open in the new server, its queue intact (nothing to steer).
 *
 * restart.sh --handoff passes the old server's path to the new one; the rest
 * of its contract (readiness of the new process, rollback, one restart at a
 * time, Ctrl-C) is the same. No SO_REUSEPORT group and no kernel setting is
 * involved: the socket keeps the flag of its first bind, and nothing else
 * joins it.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { offerListener, type ListenerTaken } from '../native/index.js';

/** How long a new server waits for the old one to send its listener. */
export const TAKE_TIMEOUT_MS = 5_000;

/** Where the process `pid` with start time `start` offers its listener. */
export function offerPath(stateDir: string, pid: number, start: string): string {
  return join(stateDir, 'handoff', `${pid}-${start}.sock`);
}

/** This server's offer: who took the listener, and a way to stop offering. */
export class Offer {
  /** The PID that last took the listener, once one did. */
  handedTo: number | null = null;
  private readonly offer: { close(): void };

  constructor(path: string, fd: number, log: (event: string, fields?: Record<string, unknown>) => void) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.offer = offerListener(path, fd, (taken: ListenerTaken) => {
      if (taken.given) this.handedTo = taken.pid;
      log(taken.given ? 'listener_handed_over' : 'listener_refused', { to: taken.pid, uid: taken.uid });
    });
  }

  /** Line 1: no more takers once the drain begins. */
  close(): void {
    this.offer.close();
  }
}
