/**
 * Steer, then close: before a draining server closes its SO_REUSEPORT
 * listener, new connections of the port stop reaching it. Closing a listener
 * that handshakes still reach loses some of them whatever tcp_migrate_req
 * says: a SYN the kernel routed here and processes after the close is
 * dropped (the client retries a second later), and a handshake completing
 * as the listener closes can be reset. A listener that nothing new reaches
 * any more has nothing of the kind to lose.
 *
 * How a reuseport group orders its sockets (net/core/sock_reuseport.c):
 *  - The live listeners sit in an array, socks[0..n). listen() appends
 *    (socks[n++]). A listener that closes is replaced by the last one
 *    (socks[i] = socks[--n]); with tcp_migrate_req it moves to a closed
 *    section used only to migrate what it had queued.
 *  - A classic BPF program attached with SO_ATTACH_REUSEPORT_CBPF (no
 *    privilege needed) returns an index into that array for every new
 *    connection; an index >= n makes the kernel fall back to its hash.
 *  - The program belongs to the group, not to the socket that attached it:
 *    it outlives its attacher and applies to listeners that join later,
 *    until one detaches it (SO_DETACH_REUSEPORT_BPF) or the group empties.
 *
 * What that means here, one server per generation:
 *  - A draining server does not have to know where it sits. It steers to
 *    index 1, then proves where a new connection goes with one probe
 *    request to the port: answered by another PID, done; answered by
 *    itself, it steers to index 0 and probes again. Answered by itself
 *    both times, it is alone on the port, and the program is detached
 *    again. So a replaced server (at 0, its successor at 1) steers to its
 *    successor, and a new server that is rolled back (at 1) steers back to
 *    the server that stays: neither pulls traffic to itself on its way out.
 *  - Once it has closed, its successor moves down into its slot and a
 *    `ret 1` left behind is out of range: the hash picks the only listener.
 *    The next server to listen would take every connection from that
 *    program, so listener.ts detaches it right after listen(): the "both"
 *    phase of a restart stays. The few microseconds between the two calls
 *    queue a handful of connections on the newcomer, which accepts them
 *    like any others (or, if it dies, the kernel migrates them).
 *  - A crash at any moment leaves the group serving: a steering server
 *    that dies is removed like any listener, and a target that dies
 *    leaves an index past the end, which falls back to the hash.
 *
 * N workers per generation (not what this server does; the reasoning for
 * whoever adopts it): the old generation sits at [0, N), the new one is
 * appended at [N, 2N), and `ret N + hash % N` spreads over the newest N
 * (a hash classic BPF can compute from the packet, such as its source port
 * modulo N; not tried here). Each old worker's close
 * moves a new worker into its hole, so the program must be recomputed by
 * one coordinator, not by each worker on its own: closing the old workers
 * from the highest index down keeps the new ones contiguous at [k, k + N)
 * while k old ones remain; before each close, attach `ret k + hash % (N-1)`
 * (which avoids the worker about to move), then close, then attach
 * `ret (k-1) + hash % N`.
 */
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { acceptQueueLength, clearReusePortSteering, steerReusePort } from '../native/index.js';
import { logEvent } from './log.js';

/** Defaults; the server's configuration may override the settle time (DRAIN_STEER_SETTLE_MS). */
export const STEER_DEFAULTS = {
  /**
   * After the steer, how long the listener stays open before it closes: a
   * handshake whose SYN was routed here before the steer completes within
   * a round trip (microseconds on one host), and its connection is accepted.
   */
  settleMs: 50,
  /** A probe that gets no answer this fast proves nothing: the steer is undone. */
  probeTimeoutMs: 2_000,
  /** Waiting for the accept queue to empty after the settle time ends here. */
  queueWaitMs: 1_000,
} as const;

export interface SteerTarget {
  /** The listening socket's fd (ours: bound with SO_REUSEPORT). */
  fd: number;
  /** The address it listens on; a wildcard is probed through loopback. */
  address: string;
  port: number;
  /** This process: a probe answered by it landed on this listener. */
  pid: number;
  /** The port serves HTTPS: probe with TLS. */
  tls?: boolean;
}

/** How a steer ended: where new connections go now, or why nothing was changed. */
export type SteerOutcome =
  | { steered: true; index: number; probes: number; ms: number }
  | { steered: false; reason: string; probes: number; ms: number };

/** Who answered one probe request: a PID from X-Server-Pid, null for a response without one. */
export type Probe = (host: string, port: number, timeoutMs: number, tls?: boolean) => Promise<number | null>;

/**
 * One GET /healthz on a new connection; resolves with the X-Server-Pid of
 * whoever answered. Over TLS the certificate is not verified: the probe asks
 * which process of this port answers, and only this server's group answers it.
 */
export const probeOnce: Probe = (host, port, timeoutMs, tls = false) =>
  new Promise((resolve, reject) => {
    const get = tls ? https.get : http.get;
    const req = get(
      { host, port, path: '/healthz', agent: false, timeout: timeoutMs, rejectUnauthorized: false },
      (res) => {
        res.resume();
        const pid = Number(res.headers['x-server-pid']);
        resolve(Number.isInteger(pid) && pid > 0 ? pid : null);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });

/** Where a probe connects to reach a listener on `address`. */
export function probeHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}

/**
 * Sends the port's new connections to another listener of the group, and
 * proves it with a probe. Never throws: a kernel that refuses, or a probe
 * that fails, leaves the group as it was (hash) and says why.
 */
export async function steerAway(
  target: SteerTarget,
  probe: Probe = probeOnce,
  timeoutMs: number = STEER_DEFAULTS.probeTimeoutMs,
): Promise<SteerOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const host = probeHost(target.address);
  let probes = 0;
  const undo = (reason: string): SteerOutcome => {
    try {
      clearReusePortSteering(target.fd);
    } catch {
      // Nothing was attached that needs undoing.
    }
    return { steered: false, reason, probes, ms: elapsed() };
  };
  for (const index of [1, 0]) {
    try {
      steerReusePort(target.fd, index);
    } catch (error) {
      return {
        steered: false,
        reason: `the kernel refused SO_ATTACH_REUSEPORT_CBPF (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        probes,
        ms: elapsed(),
      };
    }
    let answeredBy: number | null;
    try {
      probes++;
      answeredBy = await probe(host, target.port, timeoutMs, target.tls);
    } catch (error) {
      return undo(`the probe to ${host}:${target.port} failed (${(error as Error).message})`);
    }
    // An answer that names no process proves nothing about where it landed.
    if (answeredBy === null)
      return undo(`the probe's answer from ${host}:${target.port} named no process (X-Server-Pid)`);
    if (answeredBy !== target.pid) return { steered: true, index, probes, ms: elapsed() };
  }
  return undo('no other listener on the port');
}

/**
 * Drain line 2 in one call, for Drainer's `beforeListenerClose`: steer the
 * port's new connections away, then settle. Resolves with the fields logged
 * with `listener_closed`; never rejects.
 */
export async function steerThenSettle(
  target: SteerTarget,
  settleMs: number = STEER_DEFAULTS.settleMs,
  log: (event: string, fields: Record<string, unknown>) => void = logEvent,
): Promise<Record<string, unknown>> {
  const outcome = await steerAway(target);
  if (!outcome.steered) {
    log('steer_skipped', { reason: outcome.reason });
    return { steered: false };
  }
  log('steered', { index: outcome.index, probes: outcome.probes, ms: outcome.ms });
  const stillQueued = await settle(target.fd, settleMs);
  return { steered: true, ...(stillQueued ? { stillQueued } : {}) };
}

/**
 * After a steer: keeps the listener open `settleMs` so the handshakes that
 * were routed here before it complete, then until the accept queue is
 * empty (the event loop accepts them), at most `queueWaitMs` more.
 * Resolves with what was still queued at the end (0 normally).
 */
export async function settle(
  fd: number,
  settleMs: number,
  queueWaitMs: number = STEER_DEFAULTS.queueWaitMs,
): Promise<number> {
  await sleep(settleMs);
  const until = Date.now() + queueWaitMs;
  let queued = queueLength(fd);
  while (queued > 0 && Date.now() < until) {
    await sleep(5);
    queued = queueLength(fd);
  }
  return queued;
}

function queueLength(fd: number): number {
  try {
    return acceptQueueLength(fd);
  } catch {
    return 0; // not Linux: nothing to wait for that can be seen
  }
}
