// Readiness that names this very process. A health check through the shared
// port may be answered by the old server, so the restart script instead waits
// for <stateDir>/ready/<pid>-<start>, written atomically once this process
// accepts. The start time makes the name unique even when a PID is reused:
// a marker left by a crashed server never counts for a newer process.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sdNotify } from '../native/index.js';
import { ConfigError } from './config.js';
import { logEvent } from './log.js';

/**
 * A process's start time, field 22 of /proc/PID/stat (clock ticks since
 * boot), as the restart scripts read it. "0" where there is no /proc: the
 * scripts then identify a process by its PID alone.
 */
export function processStartTime(pid = process.pid): string {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '0';
  }
  // The command name (field 2) may hold spaces and parentheses: cut after it.
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return fields[19] ?? '0';
}

export class Readiness {
  private readonly markerPath: string;

  constructor(
    private readonly stateDir: string,
    private readonly notifySocket: string | undefined,
    private readonly pid = process.pid,
  ) {
    this.markerPath = join(stateDir, 'ready', `${pid}-${processStartTime(pid)}`);
  }

  /** Checks up front that markers can be written, so a bad STATE_DIR fails at start, not at ready time. */
  prepare(): void {
    try {
      // Private, as the restart scripts want it (scripts/lib/server-process.sh): what is in it decides which process a restart signals.
      mkdirSync(join(this.stateDir, 'ready'), { recursive: true, mode: 0o700 });
      const probe = `${this.markerPath}.probe`;
      writeFileSync(probe, '');
      rmSync(probe);
    } catch (error) {
      throw new ConfigError(
        `STATE_DIR=${this.stateDir} is not writable (${(error as NodeJS.ErrnoException).code}); set STATE_DIR to a directory this user can write`,
      );
    }
  }

  /** Announces that this process accepts connections: marker file, then READY=1 to systemd. */
  markReady(details: Record<string, unknown>): void {
    const temp = `${this.markerPath}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ pid: this.pid, ...details })}\n`);
    renameSync(temp, this.markerPath);
    this.notify(`READY=1\nMAINPID=${this.pid}\nSTATUS=serving`);
  }

  /** Withdraws readiness at the start of a drain. Safe to call more than once. */
  withdraw(): void {
    rmSync(this.markerPath, { force: true });
    this.notify('STOPPING=1\nSTATUS=draining');
  }

  /** A lost notification must not stop serving or draining: it is logged, and systemd's own timeouts apply. */
  private notify(state: string): void {
    if (!this.notifySocket) return;
    try {
      sdNotify(this.notifySocket, state);
    } catch (error) {
      logEvent('notify_failed', { state: state.split('\n')[0], error: (error as Error).message });
    }
  }
}
