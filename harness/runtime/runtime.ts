// What the scenario needs from a place that runs the server: start it,
// restart it, and clean up. Two families: our own runtimes (ours/), where a
// strategy's commands run (a container or local processes, the same
// commands, only the way in differs); and a user's targets (target/): their
// image, service or fleet, restarted their way.
import { parseRestartEvents, type RestartEvent } from '../strategies/events.js';
import { duration } from '../format.js';
import type { NetCounterSource } from './net-counters.js';

/** Where our strategies' commands run. */
export type OwnRuntimeKind = 'docker' | 'local';
/** A user's server, restarted their way (reuseport-lab gate). */
export type TargetKind = 'image' | 'url' | 'swarm';
export type RuntimeKind = OwnRuntimeKind | TargetKind;

/** How a fault changes one restart of ours. */
export interface RestartTweak {
  /** Run this instead of the server as the new version. */
  newCommand?: string[];
  /** Extra KEY=VALUE environment for the new version. */
  newEnv?: string[];
  readyTimeoutSeconds?: number;
  stopTimeoutSeconds?: number;
  /** Once the restart has succeeded, stop the serving process (SIGSTOP) this long, then continue it (scripts/freeze.sh). */
  freezeAfterMs?: number;
}

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
  /** Run parameters worth reporting (image, Node version, kernel, tcp_migrate_req, ...); complete once started. */
  readonly facts: Record<string, string>;
  /** Starts the first server (with extra KEY=VALUE environment) and resolves once it is ready, with what can then be done. */
  start(serverEnv?: string[]): Promise<Started>;
  /** Ends everything this runtime started, whether or not start() got through. Safe to call more than once. */
  close(): Promise<void>;
}

/** A runtime whose first server is ready: what the scenario does with it. */
export interface Started {
  /** Where the load goes, and the first server's PID. */
  readonly target: Target;
  /** Runs one restart the runtime's way. */
  restart(request: RestartRequest): Promise<RestartRecord>;
  /** Processes, zombies and fds left after the run, where the runtime can see them; null elsewhere. Throws when the probe fails. */
  leftovers(): Promise<Leftovers | null>;
  /** Where the servers' network namespace keeps its TCP counters (net-counters.ts), or why they cannot be read. */
  netCounters(): NetCounterSource | string;
  /** The servers' own log (server.log): JSON event lines of every server started. */
  serverLog(): Promise<string>;
  /** A fleet's orchestrator's account of its replicas over the run (swarm tasks); absent where one server is replaced. */
  fleet?(): FleetRecord;
}

/** How a restart command ran under its time limit. */
export interface LimitedRun {
  stdout: string;
  /** What it said to people: stderr, or what stands in for it (the engine's words when exec failed). */
  stderr: string;
  exitCode: number;
  /** Null: it ended by itself. Else how it was ended at the limit, one clause ("timeout(1) ended it (exit 124)"). */
  endedAtLimit: string | null;
}

/**
 * Every runtime's restart: runs `run` under a time limit of `limitMs` and
 * records what happened, a restart that outlived its limit as "restart #N
 * did not finish within <limit>; <how it was ended>".
 */
export async function limitedRestart(
  request: Pick<RestartRecord, 'index' | 'strategy' | 'version'> & { limitMs: number },
  run: (limitMs: number, triggeredAt: number) => Promise<LimitedRun>,
): Promise<RestartRecord> {
  const { limitMs, ...base } = request;
  const triggeredAt = Date.now();
  const outcome = await run(limitMs, triggeredAt);
  const timedOut =
    outcome.endedAtLimit === null
      ? null
      : `restart #${base.index} did not finish within ${duration(limitMs)}; ${outcome.endedAtLimit}`;
  return restartRecord({ ...base, triggeredAt }, outcome.stdout, outcome.stderr, outcome.exitCode, timedOut);
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

// A fleet: the replicas an orchestrator ran over the run (result.json `fleet`).

/** One task of the service, times in ms since the epoch (null: not reached during the run). */
export interface TaskRecord {
  id: string;
  /** Replicated services number their tasks: an update replaces slot N with a new task in slot N. */
  slot: number | null;
  /** The container's short ID: docker's name for it, and the host name our server sends (X-Server-Host). */
  container: string | null;
  image: string;
  createdAt: number;
  runningAt: number | null;
  /** When the swarm was first seen wanting it stopped (its desired state turned shutdown): it leaves the service's DNS, and its stop signal follows. */
  stoppingAt: number | null;
  /** When its container was sent the stop signal (the engine's kill event). */
  signalledAt: number | null;
  /** When it ended (shutdown, complete, failed, ...), by the engine's clock. */
  endedAt: number | null;
  /** Its last state: running, shutdown, failed, ... */
  state: string;
  exitCode: number | null;
  /** The engine's error for a task that failed or was rejected. */
  error: string | null;
}

/** What a fleet runtime saw of its orchestrator over the run (result.json `fleet`). */
export interface FleetRecord {
  orchestrator: 'swarm';
  service: string;
  replicas: number | null;
  /** Every task alive at some point of the run, in the order created. */
  tasks: TaskRecord[];
  /** How each update ended, as the service says (completed, rollback_completed, paused, ...). */
  updates: { restart: number; state: string; message: string }[];
  /** Set when the tasks could not be followed for part of the run. */
  error: string | null;
}
