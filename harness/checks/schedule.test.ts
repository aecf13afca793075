// The open model's checks on hand-made runs: the generator is judged first
// (a harness that sent late, or a load that waited for connections before
// any restart, makes the run inconclusive, never passed or failed), and a
// stall is judged from what fell due against what was answered within the
// budget.
import { describe, expect, it } from 'vitest';
import { BUCKET, restart, scenario, t0 } from '../../test/fixtures/scenario-result.js';
import { LATE_SEND_MS, ScheduleRecorder } from '../load/arrivals.js';
import type { LoadMode } from '../load/modes.js';
import { type RunRecord, schemaProblem, toResultDocument } from '../result/document.js';
import { exitCodeOf, judge } from '../verdict.js';
import { LATE_SHARE_LIMIT, WARMUP_WAIT_LIMIT } from './schedule.js';

/** What became of the request due at offset `t` (ms from t0): its latency, how late the harness sent it, how long it waited for a connection. */
type Plan = (t: number, mode: LoadMode) => { latency: number; lag?: number; wait?: number };

const steady: Plan = () => ({ latency: 5 });

/** An open run: one request due every 10 ms per mode from t0 to t0+3000, PID 1 until 1150 and PID 2 after; one restart at 1000. */
function openRun(plan: Plan, restarts = [restart(1, 1, 2, t0 + 1000)]): RunRecord {
  const schedules = new Map<LoadMode, ScheduleRecorder>();
  const scheduleOf = (mode: LoadMode) => {
    if (!schedules.has(mode)) schedules.set(mode, new ScheduleRecorder(100, 64, t0, BUCKET));
    return schedules.get(mode)!;
  };
  return scenario(
    (mode, r) => {
      const schedule = scheduleOf(mode);
      for (let t = 0; t < 3000; t += 10) {
        const { latency, lag = 0, wait = 0 } = plan(t, mode);
        r.written();
        schedule.due(t0 + t, lag);
        if (wait > 0) {
          schedule.waited(t0 + t);
          schedule.waitOver(t0 + t, lag + wait);
        }
        const at = t0 + t + latency;
        if (at >= t0 + 3000) {
          r.stoppedWith([t0 + 3000 - (t0 + t)]);
          continue;
        }
        r.answer(at < t0 + 1150 ? 1 : 2, at < t0 + 1150 ? 'v1' : 'v2', latency, at);
        schedule.answered(t0 + t);
      }
    },
    { load: 'both', restarts, schedule: (mode) => scheduleOf(mode).record() },
  );
}

const check = (run: RunRecord, id: string) => judge(run).checks.find((c) => c.id === id);

describe('load-on-schedule', () => {
  it('passes a run the harness sent on time, first in the table, saying what was due and how late at most', () => {
    const run = openRun(steady);
    const verdict = judge(run);
    expect(verdict.checks[0]).toMatchObject({ id: 'load-on-schedule', passed: true });
    expect(verdict.checks[0]!.detail).toMatch(
      /^keep-alive: 300 due at 100\/s, 0 sent late \(at most 0 connections open, the harness's longest lag 0 ms\); new connection per request: 300 due/,
    );
    expect(verdict).toMatchObject({ passed: true, inconclusive: false });
    expect(exitCodeOf(verdict)).toBe(0);
  });

  it('makes a run whose harness sent requests late inconclusive (exit 3), never passed, however the server did', () => {
    // 300 ms in which the harness handed each request out 150 ms late: 10% of the run.
    const run = openRun((t) => (t >= 1500 && t < 1800 ? { latency: 160, lag: 150 } : { latency: 5 }));
    const verdict = judge(run);
    expect(verdict.passed).toBe(false);
    expect(verdict.inconclusive).toBe(true);
    expect(exitCodeOf(verdict)).toBe(3);
    const schedule = check(run, 'load-on-schedule')!;
    expect(schedule).toMatchObject({ passed: false, inconclusive: true });
    expect(schedule.detail).toMatch(
      /^inconclusive, the load generator fell behind: keep-alive: the harness sent 30 of 300 requests \(10%\) more than 100 ms after they were due, up to 150 ms, from 1\.50 s/,
    );
    // Every other check passed: it is not the server's failure either.
    expect(verdict.checks.filter((c) => !c.passed).map((c) => c.id)).toEqual(['load-on-schedule']);
    const doc = toResultDocument(run, verdict);
    expect(doc.inconclusive).toBe(true);
    expect(schemaProblem(doc)).toBeNull();
  });

  it('lets a run fail when the server failed by more than the harness could have added: a late generator cannot hide a stall either', async () => {
    // The harness handed requests out 150 ms late (10% of them, 2000 to 2300), and the server kept those due from 1300 to 1400 waiting until 2900.
    const run = openRun((t) =>
      t >= 2000 && t < 2300
        ? { latency: 160, lag: 150 }
        : t >= 1300 && t < 1400
          ? { latency: 2900 - t }
          : { latency: 5 },
    );
    const verdict = judge(run);
    expect(verdict).toMatchObject({ passed: false, inconclusive: false });
    expect(exitCodeOf(verdict)).toBe(1);
    const schedule = check(run, 'load-on-schedule')!;
    expect(schedule.inconclusive).toBeUndefined();
    expect(schedule.detail).toMatch(
      /^the load generator fell behind: keep-alive: the harness sent 30 of 300 requests .*\. The run fails all the same, on what that cannot explain: 20 responses slower than 1,150 ms \(the budget, plus 150 ms the harness could have added\)$/,
    );
  });

  it('lets a run fail on a check no delay of the generator changes, however late the generator was', () => {
    const run = openRun((t) => (t >= 1500 && t < 1800 ? { latency: 160, lag: 150 } : { latency: 5 }));
    run.restarts[0]!.exitCode = 7;
    const verdict = judge(run);
    expect(verdict).toMatchObject({ passed: false, inconclusive: false });
    expect(verdict.checks.find((c) => c.id === 'load-on-schedule')!.detail).toMatch(
      /The run fails all the same, on checks no delay of the generator changes: restarts-exited-0/,
    );
  });

  it(`tolerates up to ${LATE_SHARE_LIMIT * 100}% of requests sent late, and a request ${LATE_SEND_MS} ms late is not late`, () => {
    expect(
      check(
        openRun((t) => (t === 2000 ? { latency: 160, lag: 150 } : { latency: 5 })),
        'load-on-schedule',
      )!.passed,
    ).toBe(true);
    expect(
      check(
        openRun((t) => (t >= 2000 && t < 2500 ? { latency: 105, lag: LATE_SEND_MS } : { latency: 5 })),
        'load-on-schedule',
      )!.passed,
    ).toBe(true);
  });

  it('makes a run inconclusive when, before the first restart, requests waited long for a connection: the rate was never offered', () => {
    const run = openRun((t, mode) =>
      mode === 'churn' && t >= 300 && t < 600 ? { latency: 200, wait: 150 } : { latency: 5 },
    );
    const schedule = check(run, 'load-on-schedule')!;
    expect(schedule).toMatchObject({ passed: false, inconclusive: true });
    expect(schedule.detail).toContain(
      'new connection per request: before the first restart 30 of 90 requests (33%) waited over 100 ms for one of the 64 connections: the target did not keep up with 100/s',
    );
    expect(30 / 90).toBeGreaterThan(WARMUP_WAIT_LIMIT);
  });

  it("does not blame the generator for waits after the first restart: they are the server's, judged by latency", () => {
    // The new server froze: every connection busy, the requests due from 1200 to 1800 waited until 2400.
    const run = openRun((t) => (t >= 1200 && t < 1800 ? { latency: 2400 - t, wait: 2400 - t } : { latency: 5 }));
    const verdict = judge(run);
    expect(check(run, 'load-on-schedule')!.passed).toBe(true);
    expect(verdict.inconclusive).toBe(false);
    expect(verdict.checks.filter((c) => !c.passed).map((c) => c.id)).toEqual([
      'zero-failed-requests',
      'latency-budget',
    ]);
  });

  it('gives nothing for a closed-model run, which keeps no schedule', () => {
    const run = scenario((_m, r) => {
      for (let t = 0; t < 3000; t += 10) {
        r.written();
        r.answer(t < 1150 ? 1 : 2, t < 1150 ? 'v1' : 'v2', 5, t0 + t);
      }
    });
    expect(check(run, 'load-on-schedule')).toBeUndefined();
  });
});

describe('no-stall in the open model', () => {
  it('fails a stretch in which the requests due were not answered within the budget, and counts every one of them', () => {
    // Requests due from 1200 to 2000 wait until 2700: those due in the first 500 ms, over the 1000 ms budget.
    const frozen = openRun((t) => (t >= 1200 && t < 2000 ? { latency: 2700 - t } : { latency: 5 }));
    const stall = check(frozen, 'no-stall')!;
    expect(stall.passed).toBe(false);
    expect(stall.name).toBe(
      'no stall during a switchover (no 500 ms in which under 20% of the requests due were answered within 1000 ms)',
    );
    expect(stall.detail).toMatch(
      /^keep-alive: restart #1: of 50 requests due in 500 ms from 1\.20 s, 0 were answered within 1000 ms/,
    );
    // Every user who arrived in those 500 ms waited over the budget: 50 per mode, not one per connection.
    expect(frozen.failuresByCause.slow).toBe(100);
  });

  it('passes when what was due was answered within the budget, however late the answers came in the second', () => {
    const paused = openRun((t) => (t >= 1200 && t < 1800 ? { latency: 1800 - t + 5 } : { latency: 5 }));
    expect(check(paused, 'no-stall')!.passed).toBe(true);
  });
});
