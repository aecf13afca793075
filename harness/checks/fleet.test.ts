// The fleet checks on hand-made records: replicas 1 (old) and 2 (new) known
// by host name, one task replaced at t0+1000, and losses placed in each
// phase of the old task's stop.
import { describe, expect, it } from 'vitest';
import { scenario, t0, type Feed } from '../../test/fixtures/scenario-result.js';
import type { RunRecord } from '../result/document.js';
import type { TaskRecord } from '../runtime/runtime.js';
import { judge } from '../verdict.js';

const task = (fields: Partial<TaskRecord>): TaskRecord => ({
  id: 'task',
  slot: 1,
  container: null,
  image: 'app:1',
  createdAt: t0 - 60_000,
  runningAt: t0 - 59_000,
  stoppingAt: null,
  signalledAt: null,
  endedAt: null,
  state: 'running',
  exitCode: null,
  error: null,
  ...fields,
});

/** The old task leaves the DNS at 1000, is signalled at 1300 and ends at 1600; the new one runs from 1050. */
const OLD = task({
  id: 'old',
  container: 'aaaaaaaaaaaa',
  stoppingAt: t0 + 1000,
  signalledAt: t0 + 1300,
  endedAt: t0 + 1600,
  state: 'shutdown',
});
const NEW = task({ id: 'new', container: 'bbbbbbbbbbbb', createdAt: t0 + 1010, runningAt: t0 + 1050 });

function fleetRun(feed: Feed, tasks: TaskRecord[] = [OLD, NEW]): RunRecord {
  return scenario(feed, {
    edit: (record) => {
      record.identityNames = { '1': 'aaaaaaaaaaaa', '2': 'bbbbbbbbbbbb' };
      record.fleet = {
        orchestrator: 'swarm',
        service: 'shop_web',
        replicas: 1,
        tasks,
        updates: [{ restart: 1, state: 'completed', message: '' }],
        error: null,
      };
      record.runtime.observes = {
        ...record.runtime.observes,
        restartEvents: 'the swarm reports tasks',
        exitLines: 'none',
      };
    },
  });
}

/** Replica 1 until `oldUntil`, replica 2 from 1100; failures at `failAt` (ms after t0). */
const traffic =
  (failAt: number[] = [], oldUntil = 1200): Feed =>
  (_mode, r) => {
    for (let t = 0; t < oldUntil; t += 10) {
      r.written();
      r.answer(1, '', 5, t0 + t);
    }
    for (let t = 1100; t < 3000; t += 10) {
      r.written();
      r.answer(2, '', 5, t0 + t);
    }
    for (const t of failAt) {
      r.written();
      r.fail('non_2xx', t0 + t);
    }
  };

const check = (run: RunRecord, id: string) => judge(run).checks.find((c) => c.id === id);

describe('fleet checks', () => {
  it('pass an update where nothing was lost, each new task answered and none answered after it ended', () => {
    const run = fleetRun(traffic());
    expect(check(run, 'losses-by-task')).toMatchObject({
      passed: true,
      detail: 'no request lost while 1 task(s) started and 1 ended',
    });
    expect(check(run, 'tasks-answered')).toMatchObject({
      passed: true,
      detail: '1 new task(s), each answered (bbbbbbbbbbbb: 190)',
    });
    expect(check(run, 'task-silent-after-end')).toMatchObject({ passed: true });
    expect(check(run, 'fleet-converged')).toMatchObject({ passed: true });
  });

  it('put each loss down to the phase of the stop it fell in, and so whose share it is', () => {
    const afterSignal = check(fleetRun(traffic([1400, 1410])), 'losses-by-task')!;
    expect(afterSignal.passed).toBe(false);
    expect(afterSignal.detail).toMatch(
      /^2 when the server closed its port before the load balancer stopped sending to it/,
    );
    expect(afterSignal.detail).toContain(
      'shop_web.1 (container aaaaaaaaaaaa) had been sent its stop signal at 1.3 s and ended at 1.6 s',
    );
    const afterEnd = check(fleetRun(traffic([2000])), 'losses-by-task')!;
    expect(afterEnd.detail).toMatch(/^1 when the load balancer's: it still sent requests to a task that had ended/);
    const unrelated = check(
      fleetRun(traffic([200]), [task({ id: 'steady', container: 'aaaaaaaaaaaa' })]),
      'losses-by-task',
    )!;
    expect(unrelated.detail).toMatch(/^1 when no task was starting or stopping/);
  });

  it('put a loss down to no replica at all when the update stopped the only one before its successor ran (stop-first)', () => {
    // One replica, stop-first: the old task is out at 1000 and ends at 1600, its successor runs from 2500.
    const stopFirst: Feed = (_mode, r) => {
      for (let t = 0; t < 1000; t += 10) {
        r.written();
        r.answer(1, '', 5, t0 + t);
      }
      for (let t = 1700; t < 2600; t += 50) {
        r.written();
        r.fail('non_2xx', t0 + t);
      }
      for (let t = 2600; t < 3000; t += 10) {
        r.written();
        r.answer(2, '', 5, t0 + t);
      }
    };
    const late = task({ id: 'new', container: 'bbbbbbbbbbbb', createdAt: t0 + 1700, runningAt: t0 + 2500 });
    const losses = check(fleetRun(stopFirst, [OLD, late]), 'losses-by-task')!;
    expect(losses.passed).toBe(false);
    expect(losses.detail).toMatch(
      /^18 when no task of the service was running in it: the update stopped the last one before its successor ran/,
    );
    expect(losses.detail).toContain(
      'while no task was running in the service and shop_web.1 (container aaaaaaaaaaaa) had ended at 1.6 s',
    );
  });

  it("put a loss down to the balancer's stale entry for a task that ended before the run, whose stop was not seen", () => {
    // First seen already ended: the record has its end, not when it left the DNS or was signalled.
    const before = task({
      id: 'gone',
      slot: 2,
      container: 'dddddddddddd',
      runningAt: null,
      endedAt: t0 - 3000,
      state: 'shutdown',
    });
    const steady = task({ id: 'steady', container: 'aaaaaaaaaaaa' });
    const losses = check(fleetRun(traffic([200]), [before, steady]), 'losses-by-task')!;
    expect(losses.detail).toMatch(/^1 when the load balancer's: it still sent requests to a task that had ended/);
    expect(losses.detail).toContain('shop_web.2 (container dddddddddddd) had ended at -3.0 s');
  });

  it('count a failure recorded after the load stopped, which has no time to place it by', () => {
    const run = fleetRun(traffic());
    run.failed += 2;
    expect(check(run, 'losses-by-task')).toMatchObject({
      passed: false,
      detail: "2 at or after the load's stop, not placed in a task's life.",
    });
    const both = fleetRun(traffic([1400]));
    both.failed += 1;
    expect(check(both, 'losses-by-task')!.detail).toMatch(
      /^1 when the server closed its port .*; 1 at or after the load's stop, not placed in a task's life\. 1 lost at 1\.4 s/,
    );
  });

  it('fail a new task that never answered, and a task that answered after it ended', () => {
    const silentNew = fleetRun(traffic(), [
      OLD,
      NEW,
      task({ id: 'n2', slot: 2, container: 'cccccccccccc', createdAt: t0 + 1500, runningAt: t0 + 1600 }),
    ]);
    expect(check(silentNew, 'tasks-answered')).toMatchObject({
      passed: false,
      detail: 'shop_web.2 (container cccccccccccc) ran from 1.6 s and never answered',
    });
    const late = fleetRun(traffic([], 2000));
    expect(check(late, 'task-silent-after-end')).toMatchObject({
      passed: false,
      detail: expect.stringMatching(/^shop_web\.1 \(container aaaaaaaaaaaa\) answered \d+ ms after it ended$/),
    });
  });

  it('give nothing for a run without a fleet', () => {
    const ids = judge(scenario(traffic())).checks.map((c) => c.id);
    expect(
      ids.filter((id) => ['losses-by-task', 'tasks-answered', 'task-silent-after-end', 'fleet-converged'].includes(id)),
    ).toEqual([]);
  });
});
