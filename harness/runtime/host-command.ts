// Runs a user's restart command on the host, through sh -c (a host always
// has a shell, and users write host commands as shell lines), with a time
// limit: SIGTERM to its process group at the limit, SIGKILL after a grace.
// runCommand is the same for an argv of the gate's own (docker compose).
import { spawn } from 'node:child_process';
import type { LimitedRun } from './runtime.js';

export interface CommandRun {
  stdout: string;
  stderr: string;
  /** 127: not found (as sh says it); the signal's 128+N when killed. */
  exitCode: number;
  timedOut: boolean;
}

export function runHostCommand(
  command: string,
  env: Record<string, string>,
  timeoutMs: number,
  graceMs = 5000,
): Promise<CommandRun> {
  return runCommand(['sh', '-c', command], env, timeoutMs, graceMs);
}

/** Runs argv on the host without a shell, under the same limit: SIGTERM to its group, SIGKILL after the grace. */
export function runCommand(
  argv: string[],
  env: Record<string, string>,
  timeoutMs: number,
  graceMs = 5000,
): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    // A group of its own, so the limit ends what it started too.
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name);
      } catch {
        // Gone already.
      }
    };
    let kill: NodeJS.Timeout | undefined;
    const term = setTimeout(() => {
      timedOut = true;
      signal('SIGTERM');
      kill = setTimeout(() => signal('SIGKILL'), graceMs);
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({
        stdout,
        stderr,
        exitCode:
          code ?? 128 + (sig ? (({ SIGTERM: 15, SIGKILL: 9, SIGINT: 2 } as Record<string, number>)[sig] ?? 1) : 1),
        timedOut,
      });
    });
  });
}

/** What a failed command said: its stderr, else its stdout (where the engine puts "exec failed: ..."). */
export const said = (run: { stdout: string; stderr: string; exitCode: number }) =>
  run.stderr || (run.exitCode === 0 ? '' : run.stdout);

/** A user's restart command on the host, as a restart under a time limit sees it. */
export const limitedRunOf = (run: {
  stdout: string;
  stderr: string;
  exitCode: number;
  timedOut: boolean;
}): LimitedRun => ({
  stdout: run.stdout,
  stderr: said(run),
  exitCode: run.exitCode,
  endedAtLimit: run.timedOut ? 'it was ended' : null,
});
