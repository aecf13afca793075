// restart.sh's contract (see the top of restart.sh), line by line, with real
// server processes on 127.0.0.1. Interrupted restarts, the control and the
// entrypoint: restart-interrupted.test.ts.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startChurnLoad } from '../harness/load/churn-load.js';
import { Recorder } from '../harness/load/recorder.js';
import { alive } from '../harness/runtime/processes.js';
import { processStartTime } from '../server/readiness.js';
import { tempDir, track } from '../test/processes.js';
import {
  killStartedServers,
  listeningSockets,
  names,
  pidOf,
  type Run,
  script,
  setup,
  standIn,
} from '../test/restart-script.js';

afterEach(killStartedServers);

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
