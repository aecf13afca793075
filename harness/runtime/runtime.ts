// What the scenario needs from a place that runs the server: start it,
// restart it the way its strategy (strategies/) says, and clean up. Docker
// and local processes run the same strategy commands; only the way in differs.
import { parseRestartEvents, type RestartEvent } from '../strategies/events.js';
import type { NetCounterSource } from './net-counters.js';
import type { FleetRecord } from './target/swarm/tasks.js';
import type { RestartTweak, RuntimeKind } from '../strategies/strategy.js';

export interface RestartRecord {
  index: number;
  /** The strategy's name. */
  strategy: string;
  /** APP_VERSION given to the new server. */
  version: string;
  triggeredAt: number;
  finishedAt: number;
  exitCode: number;
  oldPid: number | null;
  newPid: number | null;
  events: RestartEvent[];
  /** What the script said to people (stderr), for the report. */
  messages: string;
  /** Set when the harness had to end the restart: "restart #2 did not finish within 60 s". */
  timedOut: string | null;
}

export interface Target {
  host: string;
  port: number;
  /** PID of the first server. */
  pid: number;
}

/** How one restart goes: its version, a fault's tweak, and a time limit other than the runtime's. */
export interface RestartRequest {
  index: number;
  version: string;
  tweak?: RestartTweak;
  timeoutSeconds?: number;
}

/** KEY=VALUE lists merged so that a key in `overrides` replaces the same key in `base`. */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const keys = new Set(overrides.map((pair) => pair.slice(0, pair.indexOf('='))));
  return [...base.filter((pair) => !keys.has(pair.slice(0, pair.indexOf('=')))), ...overrides];
}

/** The strategy name recorded for a restart that the user's own command performs. */
export const USER_COMMAND = 'your-command';

/** After the restart time limit, SIGTERM; after this much more, SIGKILL. */
export const RESTART_KILL_GRACE_MS = 5_000;

/** The default restart time limit: what restart.sh may legitimately take, plus a margin. */
export function defaultRestartTimeoutSeconds(options: {
  readyTimeout: number;
  stopTimeout: number;
  overlapMs: number;
}): number {
  return Math.ceil(options.readyTimeout + options.stopTimeout + options.overlapMs / 1000 + 30);
}

/** What is left in the container after the run (docker only). */
export interface Leftovers {
  /** Node processes still running, with their state letter from /proc. */
  serverProcesses: { pid: number; state: string }[];
  zombies: number;
  /** Open fds of the first server at start and of the last one at the end; null where they cannot be seen. */
  firstServerFds: number | null;
  lastServerFds: number | null;
  /** A user's image: how many processes ran in the container once it was ready. */
  processesAtStart?: number;
}

/**
 * What a runtime can see of the servers it runs. A check that needs one of
 * these is skipped, with the reason given here, where the runtime cannot.
 */
export const OBSERVABLES = {
  identities: 'which process answered each response',
  versions: 'the version each server was started with',
  restartEvents: "the restart's own account of its steps: new PID, ready, old signalled, old gone",
  exitLines: "each server's last words: how it drained and its exit code",
  processes: 'the processes left when the run ends',
  fds: "the servers' open file descriptors",
  kernelCounters: "the kernel's TCP counters of the servers' network namespace",
} as const;

export type Observable = keyof typeof OBSERVABLES;

/** Per observable: true, or why this runtime cannot see it (one clause, for a skipped check). */
export type Sight = Record<Observable, true | string>;

/** Everything seen: our own servers, started by our scripts, in a place the harness owns. */
export const SEES_ALL: Sight = {
  identities: true,
  versions: true,
  restartEvents: true,
  exitLines: true,
  processes: true,
  fds: true,
  kernelCounters: true,
};

export interface Runtime {
  readonly kind: RuntimeKind;
  /** What this runtime can see of its servers. */
  readonly observes: Sight;
  /** One line for the top of the output and the report. */
  readonly description: string;
  /** Run parameters worth reporting (image, Node version, kernel, tcp_migrate_req, ...). */
  readonly facts: Record<string, string>;
  /** Starts the first server (with extra KEY=VALUE environment) and resolves once it is ready. */
  start(serverEnv?: string[]): Promise<Target>;
  /** Runs one restart with the runtime's strategy. */
  restart(request: RestartRequest): Promise<RestartRecord>;
  /** Processes, zombies and fds left after the run, where the runtime can see them; null elsewhere. Throws when the probe fails. */
  leftovers(): Promise<Leftovers | null>;
  /** Where the servers' network namespace keeps its TCP counters (net-counters.ts), or why they cannot be read. Asked after start(). */
  netCounters(): NetCounterSource | string;
  /** The servers' own log (server.log): JSON event lines of every server started. */
  serverLog(): Promise<string>;
  /** A fleet's orchestrator's account of its replicas over the run (swarm tasks); absent where one server is replaced. */
  fleet?(): FleetRecord;
  /** Ends everything this runtime started. Safe to call more than once. */
  close(): Promise<void>;
}

/** Builds the record of one restart from the script's output and exit code. */
export function restartRecord(
  base: Pick<RestartRecord, 'index' | 'strategy' | 'version' | 'triggeredAt'>,
  stdout: string,
  stderr: string,
  exitCode: number,
  timedOut: string | null = null,
): RestartRecord {
  const events = parseRestartEvents(stdout);
  const started = events.find((e) => e.event === 'restart_started');
  const newStarted = events.find((e) => e.event === 'new_started');
  return {
    ...base,
    finishedAt: Date.now(),
    exitCode,
    oldPid: typeof started?.old_pid === 'number' ? started.old_pid : null,
    newPid: newStarted?.pid ?? null,
    events,
    messages: stderr.trim(),
    timedOut,
  };
}
