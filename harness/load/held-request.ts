// A long request that is in a known server's hands before a restart begins.
// Written on a new connection, a request may still sit in the accept queue
// when the restart starts (seen under load with systemd's socket: the old
// server was stopped 217 ms after the request was written, had not accepted
// it, and the new server answered it). Here a first short request on the same
// keep-alive connection is answered first: whoever answered it has accepted
// the connection, and the long request follows on it.
import http from 'node:http';
import { getOnce } from './http-get.js';
import type { Outcome } from './recorder.js';
import { checkOurServer } from './response-check.js';

export interface HeldRequest {
  /** Resolves once `path` is written on a connection a server has accepted. */
  sent: Promise<void>;
  outcome: Promise<Outcome>;
}

/**
 * GET / and then `path` on one connection; the outcome is the second's. When
 * the first fails, the second still goes, on a new connection: the outcome
 * then says what became of it all the same.
 */
export function heldRequest(target: { host: string; port: number; timeoutSeconds: number }, path: string): HeldRequest {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let sent!: () => void;
  const written = new Promise<void>((resolve) => (sent = resolve));
  const outcome = (async () => {
    try {
      // A healthy server answers this in milliseconds; past 10 s the long request goes all the same.
      await getOnce(agent, target, '/', Math.min(10_000, target.timeoutSeconds * 1000), checkOurServer);
      const long = getOnce(agent, target, path, target.timeoutSeconds * 1000, checkOurServer, sent);
      return await long;
    } finally {
      sent();
      agent.destroy();
    }
  })();
  return { sent: written, outcome };
}
