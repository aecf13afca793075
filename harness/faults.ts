// Faults the harness can inject (--fault NAME), each applied to restart #1,
// so a user can watch what a restart does when things go wrong. A fault says
// what should go wrong (a RestartTweak); each strategy turns that into its
// own mechanics, or refuses a fault that does not apply to it.
import type { RestartTweak } from './strategies/strategy.js';

export const FAULT_NAMES = [
  'crash-at-start',
  'never-ready',
  'cannot-bind',
  'slow-request',
  'past-deadline',
  'stop-timeout',
  'hung-restart',
  'stall-after-ready',
  'wrong-version',
  'short-drain',
  'exit-at-sigterm',
  'freeze',
  'one-shot-goaway',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** The restart a fault applies to. */
export const FAULTY_RESTART = 1;

export interface Fault {
  /** What happens and what the gate should say, one sentence. */
  summary: string;
  /** The restart script must roll back (exit 1) and the old server keep serving. */
  expectRollback?: boolean;
  /** How restart #1 goes wrong. */
  tweak?: RestartTweak;
  /** Environment for the first server. */
  serverEnv?: string[];
  /** A GET /slow?ms=N sent on its own connection just before restart #1. */
  slowRequestMs?: (intervalMs: number) => number;
  /** The harness's time limit for restart #1. */
  restartTimeoutSeconds?: number;
  /** The long-request lane the fault shows itself through, unless --long names one. */
  longLane?: { path: string; connections: number };
}

export const FAULTS: Record<FaultName, Fault> = {
  'crash-at-start': {
    summary: 'the new version exits with code 3 at start; restart #1 rolls back and the old server keeps serving',
    expectRollback: true,
    tweak: { newCommand: ['node', '-e', "console.error('injected fault: crash at start'); process.exit(3)"] },
  },
  'never-ready': {
    summary: 'the new version never becomes ready; restart #1 rolls back after a 2 s ready timeout',
    expectRollback: true,
    tweak: { readyTimeoutSeconds: 2, newCommand: ['sleep', '600'] },
  },
  'cannot-bind': {
    summary: 'the new version cannot bind (HOST=192.0.2.1 is no address of this host); restart #1 rolls back',
    expectRollback: true,
    tweak: { newEnv: ['HOST=192.0.2.1'] },
  },
  'slow-request': {
    summary: 'a long /slow request spans restart #1; the old server must finish it with 200',
    slowRequestMs: (intervalMs) => Math.round(intervalMs * 0.8),
  },
  'past-deadline': {
    summary: "a request longer than the old server's 1.5 s drain deadline is cut; the gate fails and says why",
    serverEnv: ['DRAIN_TIMEOUT_MS=1500', 'DRAIN_IDLE_GRACE_MS=500'],
    slowRequestMs: () => 4000,
  },
  'stop-timeout': {
    summary:
      "the old server is still draining a long request at the restart's 1 s stop timeout and gets SIGKILL; the gate fails and says who killed it",
    tweak: { stopTimeoutSeconds: 1 },
    slowRequestMs: () => 4000,
  },
  'hung-restart': {
    summary:
      'restart #1 hangs (a new version that never gets ready, a one-hour ready timeout); the harness ends it after 3 s, the old server keeps serving, and the run fails naming the restart',
    tweak: { readyTimeoutSeconds: 3600, newCommand: ['sleep', '3600'] },
    restartTimeoutSeconds: 3,
  },
  'stall-after-ready': {
    summary:
      'the new version blocks its event loop for 3 s right after it is ready; the requests routed to it wait, and the latency budget and the stall check fail the gate',
    tweak: { newEnv: ['STALL_AFTER_READY_MS=3000'] },
  },
  'wrong-version': {
    summary:
      'the new version reports the previous version (v1), as a restart that started the old build would; the version check fails the gate',
    tweak: { newEnv: ['APP_VERSION=v1'] },
  },
  'short-drain': {
    summary:
      'the server gives up on what is in flight 300 ms after SIGTERM (DRAIN_TIMEOUT_MS=300); the long-request lane (2 × /slow?ms=5000 unless --long names one: every SIGTERM finds requests with seconds to go) sees requests cut, and the gate fails naming cut_in_flight',
    serverEnv: ['DRAIN_TIMEOUT_MS=300', 'DRAIN_IDLE_GRACE_MS=100'],
    longLane: { path: '/slow?ms=5000', connections: 2 },
  },
  freeze: {
    summary:
      'once restart #1 is done, the new server, then the only one serving, is stopped (SIGSTOP) for 800 ms and continued: every request that falls due meanwhile waits. The open model counts each of them slow past a budget under 800 ms; the closed model only as many as it has connections',
    tweak: { freezeAfterMs: 800 },
  },
  'one-shot-goaway': {
    summary:
      "HTTP/2 (--protocol h2c): the server tells its sessions to go with the final GOAWAY alone (DRAIN_GOAWAY=one-shot), as Node's own server.close() does, with no notice first; a stream the client opens while it is on the wire crosses it, and the notice check fails the gate",
    serverEnv: ['DRAIN_GOAWAY=one-shot'],
  },
  'exit-at-sigterm': {
    summary:
      'the old server exits at SIGTERM without draining, as a server with no handler does (DRAIN_ON_SIGTERM=off): open connections end with an EOF or a reset, and the gate fails naming them, streams included',
    serverEnv: ['DRAIN_ON_SIGTERM=off'],
  },
};
