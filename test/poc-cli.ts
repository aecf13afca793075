// Runs `npm run poc`'s entry point as a user would and reads its result.json.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ResultDocument, schemaProblem } from '../harness/result/document.js';
import { ROOT, tempDir } from './processes.js';

export interface PocRun {
  code: number;
  reportDir: string;
  stdout: string;
  stderr: string;
  /** Null when result.json matches its JSON Schema, else the first problem. */
  schemaProblem?: string | null;
  /** result.json, when the run got that far. */
  result?: ResultDocument;
}

export interface PocHooks {
  onSpawn?: (pid: number) => void;
  /** Called with all stdout so far, after each chunk. */
  onStdout?: (stdout: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Where the command runs (default: the repository). */
  cwd?: string;
}

export function runPoc(args: string[], options: PocHooks = {}): Promise<PocRun> {
  const reportDir = tempDir('reuseport-lab-report-');
  return runReporting(
    process.execPath,
    [join(ROOT, 'dist/harness/cli.js'), 'poc', '--report-dir', reportDir, ...args],
    reportDir,
    options,
  );
}

/** Runs a command that writes result.json into `reportDir`, and reads it (and checks it against its schema) once the command ends. */
export function runReporting(
  command: string,
  argv: string[],
  reportDir: string,
  options: PocHooks = {},
): Promise<PocRun> {
  return new Promise((resolve) => {
    const child = spawn(command, argv, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      options.onStdout?.(stdout);
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      let result;
      try {
        result = JSON.parse(readFileSync(join(reportDir, 'result.json'), 'utf8'));
      } catch {
        result = undefined;
      }
      resolve({
        code: code ?? -1,
        reportDir,
        stdout,
        stderr,
        result,
        schemaProblem: result === undefined ? undefined : schemaProblem(result),
      });
    });
  });
}

/** A one-line explanation of a run, for assertion messages. */
export function explain(run: PocRun): string {
  const failing = run.result?.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`) ?? [];
  return `exit ${run.code}; ${failing.join('; ') || 'no failing checks'}; stderr: ${run.stderr.slice(-500)}`;
}
