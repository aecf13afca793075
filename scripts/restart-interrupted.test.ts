// restart.sh interrupted (contract lines 9 and 10), the control
// (naive-restart.sh) and the container's entrypoint, with real server
// processes on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { requestOnce } from '../harness/load/churn-load.js';
import { alive } from '../harness/runtime/processes.js';
import { parseRestartEvents, type RestartEvent } from '../harness/strategies/events.js';
import { SCRIPTS, tempDir } from '../test/processes.js';
import {
  killStartedServers,
  names,
  pidOf,
  script,
  ScriptProcess,
  serverPids,
  setup,
  slowStart,
} from '../test/restart-script.js';

afterEach(killStartedServers);

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
