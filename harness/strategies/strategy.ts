// A restart strategy: how the server is replaced. Everything that differs
// between strategies lives behind this interface, so a new strategy is one
// new file (plus its test) and a line in strategies/index.ts.
import type { OwnRuntimeKind, RestartTweak } from '../runtime/runtime.js';

export type { RestartTweak } from '../runtime/runtime.js';

/** The Dockerfile target a strategy runs in: the plain server image, or systemd as PID 1. */
export type ImageVariant = 'runtime' | 'systemd';

/** The restart settings a run passes to every restart. */
export interface RestartSettings {
  readyTimeoutSeconds: number;
  stopTimeoutSeconds: number;
  overlapMs: number;
}

/**
 * What a fault asks of one restart, said without knowing how the strategy
 * restarts: each strategy turns it into its own flags, units or files.
 */

/**
 * The strategy's restart command for one restart, with what a fault adds
 * after it: a freeze of the serving process once the restart succeeded,
 * inside the same command, so that it belongs to the restart's record.
 */
export function restartCommandOf(
  strategy: RestartStrategy,
  scriptsDir: string,
  settings: RestartSettings,
  tweak?: RestartTweak,
): TargetCommand {
  const command = strategy.restartCommand(scriptsDir, settings, tweak);
  if (!tweak?.freezeAfterMs) return command;
  const freeze = `${scriptsDir}/freeze.sh`;
  // "$@" is the restart; the freeze only follows a success, and the restart's exit code is the command's.
  const script = `"$@"; code=$?; [ "$code" -ne 0 ] || sh '${freeze}' ${tweak.freezeAfterMs} '${strategy.servingPidProbe.replace(/'/g, "'\\''")}'; exit "$code"`;
  return { argv: ['sh', '-c', script, 'restart', ...command.argv], env: command.env };
}

/** A command to run in the target (a local process, or docker exec), and its extra environment. */
export interface TargetCommand {
  argv: string[];
  env: string[];
}

export interface Operations {
  /** Where the servers' logs go and how to read them. */
  logs: string;
  /** What brings the server back after the machine (or container) restarts. */
  reboot: string;
  /** The repository files the design takes beyond the server: its scripts and unit files. */
  files: readonly string[];
}

export interface RestartStrategy {
  readonly name: string;
  /** One line for --help and the report. */
  readonly summary: string;
  /** What it needs beyond the server itself (privileges, unit files, kernel setting), for the report. */
  readonly needs: string;
  readonly runtimes: readonly OwnRuntimeKind[];
  /** The image it runs in, under Docker. */
  readonly image: ImageVariant;
  /** Who sends SIGKILL when an old server overruns its drain, as the verdict says it. */
  readonly killer: string;
  /**
   * The restart, as a command in the target whose scripts live in
   * `scriptsDir`. It prints the events of strategies/events.ts as JSON lines
   * and exits 0 (restarted), 1 (rolled back) or another code (failed).
   */
  restartCommand(scriptsDir: string, settings: RestartSettings, tweak?: RestartTweak): TargetCommand;
  /** Starts the first server, where the runtime has no entrypoint that does (the local runtime). */
  coldStartCommand(scriptsDir: string, settings: RestartSettings): TargetCommand;
  /** A shell snippet that prints the PID of the server serving now (run in the target with `sh -c`). */
  readonly servingPidProbe: string;
  /** A shell snippet that prints the servers' own JSON log lines (server/log.ts), from every server of the run. */
  readonly serverLogProbe: string;
  /** How it is run day to day: the rows of the seed documents' comparison (npm run compare). */
  readonly operations: Operations;
  /** Why a fault does not apply to this strategy, or undefined when it does. */
  refuses(fault: string): string | undefined;
}
