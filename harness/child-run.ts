// Runs one of this project's entry points as a child process (npm run
// compare and npm run gallery run the gate once per row): its stderr is kept
// for the error message and shown live on a TTY, and a signal that reaches
// the parent alone is passed on, so the child cleans up after itself.
import { spawn } from 'node:child_process';
import { SetupError, TargetError } from './errors.js';
import { EXIT } from './exit-codes.js';

export interface ChildOutcome {
  code: number;
  stderr: string;
}

/** For a caller that watches the child (the soak samples its memory and reads its GC trace). */
export interface ChildWatch {
  onStart?: (pid: number) => void;
  /** Node flags before the script, e.g. --trace-gc. */
  nodeArgs?: string[];
  /** The child's stdout, which is otherwise dropped. */
  onStdout?: (text: string) => void;
}

export class ChildRunner {
  private child = 0;
  interrupted: NodeJS.Signals | undefined;

  constructor() {
    const onSignal = (signal: NodeJS.Signals) => {
      this.interrupted ??= signal;
      // From a terminal the child has it already; a second one changes nothing.
      if (this.child) process.kill(this.child, signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  run(script: string, args: string[], cwd: string, watch: ChildWatch = {}): Promise<ChildOutcome> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...(watch.nodeArgs ?? []), script, ...args], {
        cwd,
        stdio: ['ignore', watch.onStdout ? 'pipe' : 'ignore', 'pipe'],
      });
      this.child = child.pid ?? 0;
      if (child.pid) watch.onStart?.(child.pid);
      if (watch.onStdout) child.stdout!.on('data', (chunk: Buffer) => watch.onStdout!(chunk.toString()));
      let stderr = '';
      child.stderr!.on('data', (chunk) => {
        stderr += chunk;
        if (process.stderr.isTTY) process.stderr.write(chunk);
      });
      child.on('error', reject);
      child.on('close', (code) => {
        this.child = 0;
        resolve({ code: code ?? 1, stderr });
      });
    });
  }
}

/** The one line a child said about a usage or setup error (exit 2). */
export function setupReason(stderr: string): string {
  const line = stderr
    .trim()
    .split('\n')
    .filter((l) => /^reuseport-lab[^:]*: /.test(l))
    .at(-1);
  return (line ?? stderr.trim().slice(-300)).replace(/^reuseport-lab[^:]*: /, '');
}

/** A child run's exit code that says it judged nothing: its target, its flags or a bug stopped it. */
export const didNotRun = (code: number) => code === EXIT.usage || code === EXIT.target || code === EXIT.internal;

/** The error to end a parent run with, for a child that did not run: the same kind, so the same exit code. */
export function childError(code: number, message: string): Error {
  if (code === EXIT.target) return new TargetError(message);
  if (code === EXIT.usage) return new SetupError(message);
  return new Error(message);
}
