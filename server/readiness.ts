// Readiness that names this very process. A health check through the shared
// port may be answered by the old server, so the restart script instead waits
// for <stateDir>/ready/<pid>, written atomically once this PID accepts.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sdNotify } from '../native/index.js';
import { ConfigError } from './config.js';
import { logEvent } from './log.js';

export class Readiness {
  private readonly markerPath: string;

  constructor(
    private readonly stateDir: string,
    private readonly notifySocket: string | undefined,
    private readonly pid = process.pid,
  ) {
    this.markerPath = join(stateDir, 'ready', String(pid));
  }

  /** Checks up front that markers can be written, so a bad STATE_DIR fails at start, not at ready time. */
  prepare(): void {
    try {
      mkdirSync(join(this.stateDir, 'ready'), { recursive: true });
      const probe = `${this.markerPath}.probe`;
      writeFileSync(probe, '');
      rmSync(probe);
    } catch (error) {
      throw new ConfigError(`STATE_DIR=${this.stateDir} is not writable (${(error as NodeJS.ErrnoException).code}); set STATE_DIR to a directory this user can write`);
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
