// restart.sh's contract (see the top of restart.sh), line by line, with real
// server processes on 127.0.0.1.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, freePort } from '../harness/runtime/processes.js';
import { parseRestartEvents, type RestartEvent } from '../harness/runtime/runtime.js';
import { RawConnection, SCRIPTS, tempDir, cleanup as cleanupDirs } from '../test/processes.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  events: RestartEvent[];
}

const serverPids = new Set<number>();

afterEach(async () => {
  for (const pid of serverPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  serverPids.clear();
  await cleanupDirs();
});

function script(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(join(SCRIPTS, name), args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      const events = parseRestartEvents(stdout);
      for (const e of events) if (e.event === 'new_started' && e.pid) serverPids.add(e.pid);
      resolve({ code: code ?? -1, stdout, stderr, events });
    });
  });
}

async function setup() {
  const stateDir = tempDir();
  const env = { STATE_DIR: stateDir, HOST: '127.0.0.1', PORT: String(await freePort()), DRAIN_IDLE_GRACE_MS: '100' };
  const restart = (args: string[] = [], extra: NodeJS.ProcessEnv = {}) => script('restart.sh', args, { ...env, ...extra });
  const pidFile = () => readFileSync(join(stateDir, 'server.pid'), 'utf8').trim();
  const answer = async () => (await new RawConnection(Number(env.PORT)).request('/')).headers['x-server-pid'];
  return { stateDir, env, restart, pidFile, answer };
}

const names = (run: Run) => run.events.map((e) => e.event);
describe('restart.sh', () => {
  it('cold-starts when there is no PID file, then replaces the old server with a new one', async () => {
    const { restart, pidFile, answer } = await setup();
    const cold = await restart();
    expect(cold.code).toBe(0);
    expect(names(cold)).toEqual(['restart_started', 'new_started', 'new_ready', 'restart_done']);
    const first = Number(pidFile());
    expect(await answer()).toBe(String(first));

    const next = await restart();
    expect(next.code).toBe(0);
    expect(names(next)).toEqual(['restart_started', 'new_started', 'new_ready', 'old_signalled', 'old_exited', 'restart_done']);
    const second = Number(pidFile());
    expect(second).not.toBe(first);
    expect(next.events[0]).toMatchObject({ old_pid: first });
    expect(alive(first)).toBe(false);
    expect(await answer()).toBe(String(second));
    // Events carry millisecond timestamps in order.
    const times = next.events.map((e) => e.ts);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('rolls back when the new server crashes at start: the old one keeps serving', async () => {
    const { restart, pidFile, answer } = await setup();
    await restart();
    const old = pidFile();

    const crashed = await restart(['--', 'sh', '-c', 'exit 3']);
    expect(crashed.code).toBe(1);
    expect(crashed.events.at(-1)).toMatchObject({ event: 'rolled_back', reason: 'exited with code 3 before it was ready' });
    expect(pidFile()).toBe(old);
    expect(await answer()).toBe(old);
  });

  it('rolls back when the new server never becomes ready, and kills it', async () => {
    const { restart, pidFile, answer } = await setup();
    await restart();
    const old = pidFile();

    const stuck = await restart(['--ready-timeout', '1', '--', 'sleep', '60']);
    expect(stuck.code).toBe(1);
    expect(stuck.events.at(-1)).toMatchObject({ event: 'rolled_back', reason: 'not ready within 1s' });
    const stuckPid = stuck.events.find((e) => e.event === 'new_started')!.pid!;
    expect(alive(stuckPid)).toBe(false);
    expect(pidFile()).toBe(old);
    expect(await answer()).toBe(old);
  });

  it('refuses a second restart while one runs, and takes over a stale lock', async () => {
    const { stateDir, restart } = await setup();
    mkdirSync(join(stateDir, 'restart.lock'), { recursive: true });
    writeFileSync(join(stateDir, 'restart.lock', 'pid'), String(process.pid));
    const refused = await restart();
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(`another restart (PID ${process.pid}) is in progress`);

    writeFileSync(join(stateDir, 'restart.lock', 'pid'), '999999999');
    const taken = await restart();
    expect(taken.code).toBe(0);
    expect(taken.stderr).toMatch('removing a stale restart lock');
    expect(existsSync(join(stateDir, 'restart.lock'))).toBe(false);
  });

  it('refuses concurrent restarts for real: two at once, one wins', async () => {
    const { restart } = await setup();
    await restart();
    const [a, b] = await Promise.all([restart(), restart()]);
    expect([a.code, b.code].sort()).toEqual([0, 3]);
  });

  it('treats a stale PID file (process gone, or not a ready server) as a cold start', async () => {
    const { stateDir, restart, pidFile } = await setup();
    writeFileSync(join(stateDir, 'server.pid'), '999999999\n');
    const gone = await restart();
    expect(gone.code).toBe(0);
    expect(gone.events[0]).toMatchObject({ event: 'restart_started', old_pid: null });

    // A live process that is not our server (here: this test runner) is never signalled.
    writeFileSync(join(stateDir, 'server.pid'), `${process.pid}\n`);
    const unrelated = await restart();
    expect(unrelated.code).toBe(0);
    expect(unrelated.stderr).toMatch(`names ${process.pid}, which is not a ready server`);
    expect(names(unrelated)).not.toContain('old_signalled');
    expect(Number(pidFile())).not.toBe(process.pid);
  });

  it('refuses a corrupt PID file with a clear message', async () => {
    const { stateDir, restart } = await setup();
    writeFileSync(join(stateDir, 'server.pid'), 'rm -rf /; $(reboot)\n');
    const run = await restart();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/PID file .* is corrupt/);
    expect(run.events).toEqual([]);
  });

  it('sends SIGKILL to an old server that ignores SIGTERM past the stop timeout, and says so', async () => {
    const { stateDir, restart } = await setup();
    // A stand-in server that ignores SIGTERM and marks itself ready.
    const stubborn = ['--', 'sh', '-c', `trap '' TERM; touch "${stateDir}/ready/$$"; while :; do sleep 0.1; done`];
    await restart(stubborn);
    const run = await restart(['--stop-timeout', '1']);
    expect(run.code).toBe(0);
    expect(names(run)).toContain('old_killed');
    expect(run.stderr).toMatch(/did not exit within 1s of SIGTERM; sent SIGKILL/);
  });

  it('kills the uncommitted new server when interrupted, and the old one keeps serving', async () => {
    const { env, stateDir, pidFile, answer } = await setup();
    await script('restart.sh', [], env);
    const old = pidFile();
    const child = spawn(join(SCRIPTS, 'restart.sh'), ['--', 'sleep', '60'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    while (!stdout.includes('new_started')) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('close', r));
    const events = parseRestartEvents(stdout);
    const stuck = events.find((e) => e.event === 'new_started')!.pid!;
    expect(code).toBe(130);
    expect(events.at(-1)).toMatchObject({ event: 'rolled_back', reason: 'interrupted' });
    expect(alive(stuck)).toBe(false);
    expect(existsSync(join(stateDir, 'restart.lock'))).toBe(false);
    expect(pidFile()).toBe(old);
    expect(await answer()).toBe(old);
  });

  it('rejects bad options with one line and exit 2', async () => {
    const { restart } = await setup();
    for (const args of [['--ready-timeout', 'soon'], ['--stop-timeout', '-1'], ['--bogus']]) {
      const run = await restart(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('naive-restart.sh (the control)', () => {
  it('stops the old server before the new one starts', async () => {
    const { env, restart, pidFile } = await setup();
    await restart();
    const old = Number(pidFile());
    const run = await script('naive-restart.sh', [], env);
    expect(run.code).toBe(0);
    expect(names(run)).toEqual(['restart_started', 'old_signalled', 'old_exited', 'new_started', 'new_ready', 'restart_done']);
    expect(alive(old)).toBe(false);
  });
});
