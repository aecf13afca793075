// Runs one of this project's entry points as a child process (npm run
// compare and npm run gallery run the gate once per row): its stderr is kept
// for the error message and shown live on a TTY, and a signal that reaches
// the parent alone is passed on, so the child cleans up after itself.
import { spawn } from 'node:child_process';

export interface ChildOutcome {
  code: number;
  stderr: string;
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

  /** `onStart` gets the child's PID, for a caller that watches it (the soak samples its memory). */
  run(script: string, args: string[], cwd: string, onStart?: (pid: number) => void): Promise<ChildOutcome> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      this.child = child.pid ?? 0;
      if (child.pid) onStart?.(child.pid);
      let stderr = '';
      child.stderr.on('data', (chunk) => {
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
  const line = stderr.trim().split('\n').filter((l) => /^reuseport-lab[^:]*: /.test(l)).at(-1);
  return (line ?? stderr.trim().slice(-300)).replace(/^reuseport-lab[^:]*: /, '');
}
