// restart.sh and its siblings run as a terminal runs a job, with real
// servers (or a quick stand-in) on 127.0.0.1: what the restart tests share.
// Each test file ends the servers it saw after each test (killStartedServers).
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../harness/runtime/processes.js';
import { parseRestartEvents, type RestartEvent } from '../harness/strategies/events.js';
import { RawConnection, ROOT, SCRIPTS, SERVER_MAIN, tempDir, cleanup as cleanupDirs, track } from './processes.js';

export const STAND_IN = join(ROOT, 'test/fixtures/stand-in-server.sh');

export interface Run {
  code: number;
  /** The signal that ended it, if one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: RestartEvent[];
}

export const serverPids = new Set<number>();

/** Every server a test's restarts started, by PID; then its temporary directories. */
export async function killStartedServers(): Promise<void> {
  for (const pid of serverPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  serverPids.clear();
  await cleanupDirs();
}

/** restart.sh (or another script) started the way a terminal starts a job: in a process group of its own. */
export class ScriptProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  stdout = '';
  stderr = '';
  readonly done: Promise<Run>;

  constructor(name: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = track(
      spawn(join(SCRIPTS, name), args, {
        env: { PATH: process.env.PATH, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    );
    this.child.stdout.on('data', (chunk) => (this.stdout += chunk));
    this.child.stderr.on('data', (chunk) => (this.stderr += chunk));
    this.done = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        const events = parseRestartEvents(this.stdout);
        for (const e of events) if (e.event === 'new_started' && e.pid) serverPids.add(e.pid);
        resolve({
          code: code ?? (signal === 'SIGKILL' ? 137 : -1),
          signal,
          stdout: this.stdout,
          stderr: this.stderr,
          events,
        });
      }),
    );
  }

  get events(): RestartEvent[] {
    return parseRestartEvents(this.stdout);
  }

  /** Resolves with the first event of this name (fails after 15 s). */
  async waitFor(event: string): Promise<RestartEvent> {
    for (let i = 0; i < 750; i++) {
      const found = this.events.find((e) => e.event === event);
      if (found) {
        if (found.event === 'new_started' && found.pid) serverPids.add(found.pid);
        return found;
      }
      await sleep(20);
    }
    throw new Error(`no ${event} event; stdout: ${this.stdout}; stderr: ${this.stderr}`);
  }

  /** Like Ctrl-C in a terminal: the signal goes to the whole process group. */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.child.pid!, signal);
  }
}

export function script(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new ScriptProcess(name, args, env).done;
}

export async function setup() {
  const stateDir = tempDir();
  const env = { STATE_DIR: stateDir, HOST: '127.0.0.1', PORT: String(await freePort()), DRAIN_IDLE_GRACE_MS: '100' };
  const restart = (args: string[] = [], extra: NodeJS.ProcessEnv = {}) =>
    script('restart.sh', args, { ...env, ...extra });
  const start = (args: string[] = [], extra: NodeJS.ProcessEnv = {}) =>
    new ScriptProcess('restart.sh', args, { ...env, ...extra });
  /** The PID the PID file names (it holds "PID START"). */
  const pidFile = () => readFileSync(join(stateDir, 'server.pid'), 'utf8').trim().split(' ')[0]!;
  const answer = async () => (await new RawConnection(Number(env.PORT)).request('/')).headers['x-server-pid'];
  return { stateDir, env, restart, start, pidFile, answer };
}

/** The inodes of the sockets listening on `port` (/proc/net/tcp: state 0A, local port in hex). */
export function listeningSockets(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
    .map((f) => f[9]!);
}

export const names = (run: Pick<Run, 'events'>) => run.events.map((e) => e.event);
export const pidOf = (run: Pick<Run, 'events'>, event: string) => run.events.find((e) => e.event === event)!.pid!;
export const standIn = ['--', STAND_IN];

/** A new server that takes a second to start, so a signal surely lands before it is ready. */
export const slowStart = ['--', 'sh', '-c', `sleep 1; exec "${process.execPath}" "${SERVER_MAIN}"`];
