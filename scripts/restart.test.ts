// restart.sh's contract (see the top of restart.sh), line by line, with real
// server processes on 127.0.0.1.
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { requestOnce, startChurnLoad } from '../harness/load/churn-load.js';
import { Recorder } from '../harness/load/recorder.js';
import { alive, freePort } from '../harness/runtime/processes.js';
import { parseRestartEvents, type RestartEvent } from '../harness/strategies/events.js';
import { processStartTime } from '../server/readiness.js';
import {
  RawConnection,
  ROOT,
  SCRIPTS,
  SERVER_MAIN,
  tempDir,
  cleanup as cleanupDirs,
  track,
} from '../test/processes.js';

const STAND_IN = join(ROOT, 'test/fixtures/stand-in-server.sh');

interface Run {
  code: number;
  /** The signal that ended it, if one did. */
  signal: NodeJS.Signals | null;
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

/** restart.sh (or another script) started the way a terminal starts a job: in a process group of its own. */
class ScriptProcess {
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

function script(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new ScriptProcess(name, args, env).done;
}

async function setup() {
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
function listeningSockets(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
    .map((f) => f[9]!);
}

const names = (run: Pick<Run, 'events'>) => run.events.map((e) => e.event);
const pidOf = (run: Pick<Run, 'events'>, event: string) => run.events.find((e) => e.event === event)!.pid!;
const standIn = ['--', STAND_IN];

describe('restart.sh', () => {
  it('cold-starts when there is no PID file, then replaces the old server with a new one', async () => {
    const { restart, pidFile, answer, stateDir } = await setup();
    const cold = await restart();
    expect(cold.code).toBe(0);
    expect(names(cold)).toEqual(['restart_started', 'new_started', 'new_ready', 'restart_done']);
    const first = Number(pidFile());
    expect(await answer()).toBe(String(first));
    // Line 3: the PID file and the marker carry the start time.
    expect(readFileSync(join(stateDir, 'server.pid'), 'utf8')).toBe(`${first} ${processStartTime(first)}\n`);
    expect(existsSync(join(stateDir, 'ready', `${first}-${processStartTime(first)}`))).toBe(true);

    const next = await restart();
    expect(next.code).toBe(0);
    expect(names(next)).toEqual([
      'restart_started',
      'new_started',
      'new_ready',
      'old_signalled',
      'old_exited',
      'restart_done',
    ]);
    const second = Number(pidFile());
    expect(second).not.toBe(first);
    expect(next.events[0]).toMatchObject({ old_pid: first });
    expect(alive(first)).toBe(false);
    expect(await answer()).toBe(String(second));
    // Events carry millisecond timestamps in order.
    const times = next.events.map((e) => e.ts);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("starts servers in a session of their own, outside the caller's process group", async () => {
    const { restart, pidFile } = await setup();
    await restart();
    const stat = readFileSync(`/proc/${pidFile()}/stat`, 'utf8');
    const [, , pgrp, session] = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    expect(session).toBe(pidFile());
    expect(pgrp).toBe(pidFile());
  });

  it('rolls back when the new server crashes at start: the old one keeps serving', async () => {
    const { restart, pidFile, answer } = await setup();
    await restart();
    const old = pidFile();

    const crashed = await restart(['--', 'sh', '-c', 'exit 3']);
    expect(crashed.code).toBe(1);
    expect(crashed.events.at(-1)).toMatchObject({
      event: 'rolled_back',
      reason: 'exited with code 3 before it was ready',
    });
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
    expect(alive(pidOf(stuck, 'new_started'))).toBe(false);
    expect(pidFile()).toBe(old);
    expect(await answer()).toBe(old);
  });

  it('refuses a second restart while another holds the lock; a lock file nobody holds is no obstacle', async () => {
    const { stateDir, restart } = await setup();
    const lock = join(stateDir, 'restart.lock');
    // Holds the lock the way restart.sh does: an open file, locked, for the process's life.
    const holder = track(
      spawn('sh', ['-c', `exec 9>>"${lock}"; flock 9; echo locked; exec sleep 30`], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
    await new Promise((r) => holder.stdout.once('data', r));
    const refused = await restart(standIn);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch('another restart');
    expect(refused.stderr).toMatch('is in progress; wait for it to finish, then retry');
    holder.kill('SIGKILL');
    await new Promise((r) => holder.on('close', r));

    // The file is still there; nobody holds it.
    expect(existsSync(lock)).toBe(true);
    expect((await restart(standIn)).code).toBe(0);
  });

  it('lets exactly one of two restarts started together run, 100 times in a row', async () => {
    const { restart } = await setup();
    await restart(standIn);
    // When the machine is busy, one may be done (in ~40 ms) before the other
    // even starts: both run, one after the other, and the lock had nothing to
    // refuse. Such a round is told apart by when each held the lock
    // (restart_started follows the lock, restart_done ends it).
    const held = (run: Run) => ({
      from: Number(run.events.find((e) => e.event === 'restart_started')?.ts),
      to: Number(run.events.find((e) => e.event === 'restart_done')?.ts),
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 100; i++) {
      const [a, b] = await Promise.all([restart(standIn), restart(standIn)]);
      const [first, second] = [held(a), held(b)].sort((x, y) => x.from - y.from);
      const oneAfterTheOther = a.code === 0 && b.code === 0 && first!.to <= second!.from;
      outcomes.push(oneAfterTheOther ? 'one after the other' : [a.code, b.code].sort().join(','));
    }
    expect(outcomes.filter((o) => o !== '0,3' && o !== 'one after the other')).toEqual([]);
    expect(
      outcomes.filter((o) => o === '0,3').length,
      'too few rounds where the two met at the lock to say anything',
    ).toBeGreaterThanOrEqual(50);
  }, 120_000);

  it('treats a stale PID file as a cold start, and never signals a process that only shares the PID', async () => {
    const { stateDir, restart, pidFile } = await setup();
    writeFileSync(join(stateDir, 'server.pid'), '999999999 12345\n');
    const gone = await restart(standIn);
    expect(gone.code).toBe(0);
    expect(gone.events[0]).toMatchObject({ event: 'restart_started', old_pid: null });
    expect(gone.stderr).toMatch('PID file names PID 999999999, which is gone; cold start');

    // A server crashed and its PID now belongs to another process: the PID
    // file and even a leftover marker name the old start time.
    const other = track(spawn('sleep', ['60'], { stdio: 'ignore' }));
    await sleep(50);
    const pid = other.pid!;
    const realStart = Number(processStartTime(pid));
    writeFileSync(join(stateDir, 'server.pid'), `${pid} ${realStart - 100}\n`);
    writeFileSync(join(stateDir, 'ready', `${pid}-${realStart - 100}`), '');
    const reused = await restart(standIn);
    expect(reused.code).toBe(0);
    expect(reused.stderr).toMatch(
      `PID file names PID ${pid} started at ${realStart - 100}, but that PID now belongs to another process (started at ${realStart}); cold start, nothing signalled`,
    );
    expect(reused.events.filter((e) => e.pid === pid)).toEqual([]);
    expect(alive(pid)).toBe(true);
    expect(Number(pidFile())).not.toBe(pid);

    // A live process that is not a ready server of ours (this test runner), named without a start time.
    writeFileSync(join(stateDir, 'server.pid'), `${process.pid}\n`);
    const unrelated = await restart(standIn);
    expect(unrelated.code).toBe(0);
    expect(unrelated.stderr).toMatch(`names PID ${process.pid}, which is not a ready server`);
    expect(names(unrelated)).not.toContain('old_signalled');
  });

  it('refuses a corrupt PID file with a clear message', async () => {
    const { stateDir, restart } = await setup();
    writeFileSync(join(stateDir, 'server.pid'), 'rm -rf /; $(reboot)\n');
    const run = await restart();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/server\.pid is corrupt/);
    expect(run.events).toEqual([]);
  });

  it('sends SIGKILL to an old server that ignores SIGTERM past the stop timeout, and says so', async () => {
    const { restart } = await setup();
    await restart(standIn, { IGNORE_TERM: '1' });
    const run = await restart(['--stop-timeout', '1', ...standIn]);
    expect(run.code).toBe(0);
    expect(names(run)).toContain('old_killed');
    expect(run.stderr).toMatch(/did not exit within 1s of SIGTERM; sent SIGKILL/);
  });

  it('rejects bad options with one line and exit 2, from the command line or the environment, before any server starts', async () => {
    const { restart } = await setup();
    const cases: [string[], NodeJS.ProcessEnv][] = [
      [['--ready-timeout', 'soon'], {}],
      [['--stop-timeout', '-1'], {}],
      [['--bogus'], {}],
      [[], { READY_TIMEOUT: 'soon' }],
      [[], { STOP_TIMEOUT: '0' }],
      [[], { OVERLAP_MS: '1e3' }],
    ];
    for (const [args, env] of cases) {
      const run = await restart(args, env);
      expect(run.code, `${args.join(' ')} ${JSON.stringify(env)}`).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(names(run)).toEqual([]);
    }
  });

  it('13. refuses a state directory another user owns or may write, or one holding a link: the takeover of a shared /tmp path signals nothing and writes nothing through', async () => {
    // Another user (nobody) got there first: a ready marker for an unrelated process, and a link where the lock's owner goes.
    const victim = track(spawn('sleep', ['60'], { stdio: 'ignore' }));
    const planted = tempDir();
    const target = join(tempDir(), 'precious');
    writeFileSync(target, 'untouched\n');
    mkdirSync(join(planted, 'ready'));
    writeFileSync(join(planted, 'ready', `${victim.pid}-${processStartTime(victim.pid!)}`), '');
    symlinkSync(target, join(planted, 'restart.lock.owner'));
    const { env } = await setup();
    // Another uid needs root to set up (CI runs as root); a directory open to everyone needs nobody.
    const me = process.getuid!();
    const cases: (readonly [number, number])[] =
      me === 0
        ? [
            [0o777, 65534],
            [0o755, 65534],
            [0o777, me],
          ]
        : [[0o777, me]];
    for (const [mode, owner] of cases) {
      chmodSync(planted, mode);
      chownSync(planted, owner, owner);
      const run = await script('restart.sh', standIn, { ...env, STATE_DIR: planted });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          owner === 65534 ? /belongs to uid 65534, not to you/ : /may be written by other users \(mode 777\)/,
        ),
      ]);
      expect(names(run)).toEqual([]);
    }
    // A directory of our own, but with a link planted in it while it was open to others.
    chmodSync(planted, 0o700);
    const linked = await script('restart.sh', standIn, { ...env, STATE_DIR: planted });
    expect([linked.code, linked.stderr.trim()]).toEqual([
      2,
      `restart.sh: ${planted}/restart.lock.owner is a symbolic link, which these scripts would write through; remove it`,
    ]);
    // And a state directory that is itself a link.
    const link = join(tempDir(), 'state');
    symlinkSync(tempDir(), link);
    expect((await script('restart.sh', standIn, { ...env, STATE_DIR: link })).stderr).toMatch(
      /is a symbolic link; give a directory of your own/,
    );
    expect(alive(victim.pid!)).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
    victim.kill('SIGKILL');
  });

  it("12. --handoff: the new server takes the old one's socket; under new-connection load, 10 restarts lose nothing and the socket is never closed", async () => {
    const { restart, env, stateDir } = await setup();
    const port = Number(env.PORT);
    expect((await restart(['--handoff'])).code).toBe(0);
    const socket = listeningSockets(port);
    expect(socket).toHaveLength(1);

    const recorder = new Recorder(250, 5000);
    const load = startChurnLoad(
      { host: '127.0.0.1', port, concurrency: 10, maxSeconds: 120, timeoutSeconds: 10, settleMs: 5000 },
      recorder,
    );
    for (let i = 0; i < 10; i++) {
      const run = await restart(['--handoff']);
      expect(run.code).toBe(0);
      expect(names(run)).toContain('old_exited');
      // One socket all along: the same inode, never closed and bound again.
      expect(listeningSockets(port)).toEqual(socket);
    }
    await load.stop();
    const result = recorder.snapshot();
    expect(result.answered).toBeGreaterThan(100);
    expect(result.failuresByCause).toEqual({});
    expect(result.written).toBe(result.answered + result.inFlightAtStop);
    // Each old server says it handed its socket over and closed nothing.
    const log = readFileSync(join(stateDir, 'server.log'), 'utf8');
    expect(log.match(/"event":"listener_handed_over"/g)).toHaveLength(10);
    expect(log.match(/"source":"handoff"/g)).toHaveLength(10);
    expect(log).not.toMatch(/"event":"steered"/);
  });
});

/** A new server that takes a second to start, so a signal surely lands before it is ready. */
const slowStart = ['--', 'sh', '-c', `sleep 1; exec "${process.execPath}" "${SERVER_MAIN}"`];

describe('restart.sh interrupted (contract line 9 and 10): a server answers afterwards, every time', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(
    '%s to the process group before the new server is ready: it is stopped, the old one keeps serving',
    async (signal) => {
      const { restart, start, pidFile, answer } = await setup();
      await restart();
      const old = pidFile();
      const running = start(slowStart);
      const newPid = (await running.waitFor('new_started')).pid!;
      running.signalGroup(signal);
      const run = await running.done;
      expect(run.code, run.stderr).toBe(130);
      expect(run.events.at(-1)).toMatchObject({ event: 'rolled_back', reason: 'interrupted' });
      expect(alive(newPid)).toBe(false);
      expect(pidFile()).toBe(old);
      expect(await answer()).toBe(old);
    },
  );

  it('SIGINT to the process group during the overlap: the restart completes', async () => {
    const { restart, start, pidFile, answer } = await setup();
    await restart();
    const old = Number(pidFile());
    const running = start(['--overlap-ms', '5000']);
    const newPid = (await running.waitFor('new_ready')).pid!;
    await sleep(300);
    running.signalGroup('SIGINT');
    const run = await running.done;
    expect(run.code, run.stderr).toBe(130);
    expect(names(run).slice(-3)).toEqual(['old_signalled', 'old_exited', 'restart_done']);
    // What was left of the 5 s overlap was skipped.
    expect(run.events.at(-1)!.ts - run.events.find((e) => e.event === 'new_ready')!.ts).toBeLessThan(4000);
    expect(alive(old)).toBe(false);
    expect(Number(pidFile())).toBe(newPid);
    expect(await answer()).toBe(String(newPid));
  });

  it('SIGINT to the process group while the old server drains a long request: it finishes that request, the restart completes', async () => {
    const { restart, start, pidFile, answer, env } = await setup();
    await restart();
    const old = Number(pidFile());
    const slow = requestOnce({ host: '127.0.0.1', port: Number(env.PORT), timeoutSeconds: 10 }, '/slow?ms=2500');
    await sleep(100);
    const running = start();
    await running.waitFor('old_signalled');
    running.signalGroup('SIGINT');
    const run = await running.done;
    expect(run.code, run.stderr).toBe(130);
    expect(await slow).toMatchObject({ ok: true, pid: old });
    expect(names(run).slice(-2)).toEqual(['old_exited', 'restart_done']);
    expect(Number(pidFile())).toBe(pidOf(run, 'new_started'));
    expect(await answer()).toBe(pidFile());
  });

  it('a group signal at a random moment, 25 times: afterwards a server answers and the PID file names it', async () => {
    // Five rounds in each of five state directories and ports at once: the rounds of one
    // directory follow each other, as restarts of one server do.
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const lane = async (first: number) => {
      const { restart, start, pidFile, answer } = await setup();
      await restart();
      for (let i = first; i < first + 5; i++) {
        const running = start(['--overlap-ms', '200']);
        await sleep(Math.random() * 500);
        // It may have finished already; then the signal has nobody to reach.
        if (running.child.exitCode === null) running.signalGroup(signals[i % 3]!);
        const run = await running.done;
        // Killed by the signal itself only before its traps were set, when it had started nothing.
        if (run.signal) expect(run.events).toEqual([]);
        else expect([0, 130], run.stderr).toContain(run.code);
        expect(await answer(), `round ${i}: ${run.stderr}`).toBe(pidFile());
        expect(alive(Number(pidFile()))).toBe(true);
      }
    };
    await Promise.all([0, 5, 10, 15, 20].map(lane));
  }, 90_000);

  it('SIGKILL before the commit: the old server keeps serving, and the next restart stops the orphan', async () => {
    const { restart, start, pidFile, answer } = await setup();
    await restart();
    const old = pidFile();
    const running = start(slowStart);
    const orphan = (await running.waitFor('new_started')).pid!;
    running.child.kill('SIGKILL');
    expect((await running.done).code).toBe(137);
    expect(pidFile()).toBe(old);
    expect(await answer()).toBe(old);

    const next = await restart();
    expect(next.code, next.stderr).toBe(0);
    expect(next.events).toContainEqual(expect.objectContaining({ event: 'stray_signalled', pid: orphan }));
    expect(alive(orphan)).toBe(false);
    expect(await answer()).toBe(pidFile());
  });

  it('SIGKILL after the commit: the new server serves and is in the PID file; the next restart stops the old one', async () => {
    const { restart, start, pidFile, answer } = await setup();
    await restart();
    const old = Number(pidFile());
    const running = start(['--overlap-ms', '5000']);
    const newPid = (await running.waitFor('new_ready')).pid!;
    await sleep(300);
    running.child.kill('SIGKILL');
    await running.done;
    expect(Number(pidFile())).toBe(newPid);
    expect(await answer()).toMatch(/^\d+$/);
    expect(alive(old)).toBe(true);

    const next = await restart();
    expect(next.code, next.stderr).toBe(0);
    expect(next.events).toContainEqual(expect.objectContaining({ event: 'stray_exited', pid: old }));
    expect(alive(old)).toBe(false);
    expect(alive(newPid)).toBe(false);
    expect(await answer()).toBe(pidFile());
  });

  it('its stdout closed by a caller that went away: the restart still completes', async () => {
    const { restart, start, pidFile, answer } = await setup();
    await restart();
    const old = Number(pidFile());
    const running = start(slowStart);
    const newPid = (await running.waitFor('new_started')).pid!;
    running.child.stdout.destroy();
    running.child.stderr.destroy();
    const run = await running.done;
    expect(run.code).toBe(0);
    expect(Number(pidFile())).toBe(newPid);
    expect(alive(old)).toBe(false);
    expect(await answer()).toBe(String(newPid));
  });
});

describe('scripts/lib/server-process.sh', () => {
  it('gives up on a PID file it cannot rename into place, with one line, instead of retrying forever', () => {
    const stateDir = tempDir();
    const fakeBin = tempDir();
    writeFileSync(join(fakeBin, 'mv'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(fakeBin, 'mv'), 0o755);
    const run = spawnSync(
      'sh',
      [
        '-c',
        `. "${SCRIPTS}/lib/script.sh"; . "${SCRIPTS}/lib/server-process.sh"; SCRIPT_NAME=test; init_state; write_identity "$PID_FILE" 123 456`,
      ],
      {
        env: { PATH: `${fakeBin}:${process.env.PATH}`, STATE_DIR: stateDir },
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`test: cannot write ${stateDir}/server.pid; check that ${stateDir} is writable\n`);
    expect(readdirSync(stateDir).filter((name) => name.includes('.tmp.'))).toEqual([]);
  });
});

describe('naive-restart.sh (the control)', () => {
  it('stops the old server before the new one starts', async () => {
    const { env, restart, pidFile } = await setup();
    await restart();
    const old = Number(pidFile());
    const run = await script('naive-restart.sh', [], env);
    expect(run.code).toBe(0);
    expect(names(run)).toEqual([
      'restart_started',
      'old_signalled',
      'old_exited',
      'new_started',
      'new_ready',
      'restart_done',
    ]);
    expect(alive(old)).toBe(false);
  });

  it('interrupted once the old server is gone, it still brings the new one up', async () => {
    const { env, restart, pidFile, answer } = await setup();
    await restart();
    const running = new ScriptProcess('naive-restart.sh', slowStart, env);
    const newPid = (await running.waitFor('new_started')).pid!;
    running.signalGroup('SIGINT');
    const run = await running.done;
    expect(run.code, run.stderr).toBe(130);
    expect(names(run).at(-1)).toBe('restart_done');
    expect(Number(pidFile())).toBe(newPid);
    expect(await answer()).toBe(String(newPid));
  });
});

describe('entrypoint.sh', () => {
  it('survives back-to-back restarts, exits 1 when its server dies outside one, and drains on SIGTERM', async () => {
    const { env, restart, pidFile } = await setup();
    const entry = new ScriptProcess('entrypoint.sh', [], { ...env, CHECK_INTERVAL: '0.02' });
    for (let i = 0; i < 100 && !existsSync(join(env.STATE_DIR, 'server.pid')); i++) await sleep(50);
    await sleep(300);
    for (let i = 0; i < 15; i++) expect((await restart()).code).toBe(0);
    expect(entry.child.exitCode).toBeNull();

    const server = Number(pidFile());
    process.kill(server, 'SIGKILL');
    const lost = await entry.done;
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(`server ${server} is gone`);

    const second = new ScriptProcess('entrypoint.sh', [], env);
    for (let i = 0; i < 100 && (!existsSync(join(env.STATE_DIR, 'server.pid')) || Number(pidFile()) === server); i++)
      await sleep(50);
    const current = Number(pidFile());
    serverPids.add(current);
    second.child.kill('SIGTERM');
    const stopped = await second.done;
    expect(stopped.code).toBe(0);
    expect(alive(current)).toBe(false);
  }, 60_000);

  it('drains the first server when SIGTERM comes while it is still starting, and leaves nothing holding its output', async () => {
    const { env } = await setup();
    const entry = new ScriptProcess('entrypoint.sh', [], env);
    // restart.sh's events reach the entrypoint's stderr: the moment the first server was started.
    let started: RestartEvent | undefined;
    for (let i = 0; i < 500 && !started; i++) {
      started = parseRestartEvents(entry.stderr).find((e) => e.event === 'new_started');
      if (!started) await sleep(10);
    }
    expect(started?.pid, entry.stderr).toBeGreaterThan(0);
    serverPids.add(started!.pid!);
    entry.child.kill('SIGTERM');
    // 'close' waits for every process holding the entrypoint's stdout and stderr (its log tail, too).
    const stopped = await Promise.race([entry.done, sleep(15_000).then(() => undefined)]);
    expect(stopped, 'the entrypoint or something it started still holds its output 15 s after SIGTERM').toBeDefined();
    expect(stopped!.code, stopped!.stderr).toBe(0);
    expect(alive(started!.pid!)).toBe(false);
  }, 30_000);
});
