// The budget the verdict applies to what the recorder kept: at the run, and
// to a saved record again, exactly.
import { describe, expect, it } from 'vitest';
import { withoutResponse } from '../load/recorder.js';
import { BUDGET, type Feed, healthy, scenario, t0 } from '../../test/fixtures/scenario-result.js';
import { moveLatencyBudget, withLatencyBudget } from './latency-budget.js';

/** Healthy traffic, plus in each mode a few slow answers around the restart and two requests unanswered at stop. */
const withSlowOnes: Feed = (mode, r) => {
  healthy(mode, r);
  for (const [at, latency] of [
    [500, 1500],
    [1050, 2500],
    [1150, 1200],
    [1160, 800],
    [2900, 150],
  ] as const) {
    r.written();
    r.answer(2, 'v2', latency, t0 + at);
  }
  r.written();
  r.written();
  r.stoppedWith([300, 1800]);
};

describe('the latency budget, applied to what the recorder kept', () => {
  it('counts a response slower than the budget as failed (slow), still showing its PID and latency', () => {
    const record = scenario((_mode, r) => {
      r.answer(7, 'v1', BUDGET + 1, t0 + 10);
      r.answer(7, 'v1', BUDGET, t0 + 20);
    });
    expect(record).toMatchObject({ answered: 1, failed: 1, failuresByCause: { slow: 1 } });
    expect(record.buckets[0]).toMatchObject({ answered: 1, pids: { '7': 2 }, failures: { slow: 1 } });
    expect(record.buckets[0]!.latency!.max).toBeGreaterThan(BUDGET);
    // Stacked views count a slow response once: it has a PID already.
    expect(withoutResponse(record.buckets[0]!.failures)).toBe(0);
  });

  it('does not judge a response the caller marks as long on purpose', () => {
    expect(scenario((_mode, r) => r.answer(7, 'v1', 4000, t0 + 10, false))).toMatchObject({ answered: 1, failed: 0 });
  });

  it('counts a request in flight at stop as a timeout once it is older than the budget', () => {
    const record = scenario((_mode, r) => {
      for (let i = 0; i < 3; i++) r.written();
      r.stoppedWith([10, BUDGET + 500]);
      r.answer(1, 'v1', 5, t0 + 60);
    });
    expect(record).toMatchObject({
      written: 3,
      answered: 1,
      failed: 1,
      inFlightAtStop: 1,
      failuresByCause: { timeout: 1 },
    });
    expect(record.written).toBe(record.answered + record.failed + record.inFlightAtStop);
  });

  it('moves the totals, every bucket, every mode and every window with the budget', () => {
    const at1000 = scenario(withSlowOnes, { load: 'both' });
    const at2000 = withLatencyBudget(at1000, 2000);
    // Per mode: 1500, 2500 and 1200 are over 1000 ms, only 2500 over 2000; 1800 ms unanswered at stop too.
    expect(at1000.modes.map((m) => [m.failuresByCause, m.failed, m.inFlightAtStop])).toEqual([
      [{ slow: 3, timeout: 1 }, 4, 1],
      [{ slow: 3, timeout: 1 }, 4, 1],
    ]);
    expect(at2000.modes.map((m) => [m.failuresByCause, m.failed, m.inFlightAtStop])).toEqual([
      [{ slow: 1 }, 1, 2],
      [{ slow: 1 }, 1, 2],
    ]);
    expect(at2000).toMatchObject({
      failed: 2,
      answered: at1000.answered + 4,
      inFlightAtStop: 4,
      failuresByCause: { slow: 2 },
    });
    expect(at2000.parameters.latencyBudgetMs).toBe(2000);
    // The warm-up held the 1500 ms answer; the switchover (1000..1300) the 2500 and 1200 ms ones.
    expect(at2000.steady).toMatchObject({ answered: at1000.steady.answered + 2, failed: at1000.steady.failed - 2 });
    expect(at2000.switchovers[0]!.stats).toMatchObject({
      answered: at1000.switchovers[0]!.stats.answered + 2,
      failed: 2,
    });
    expect(at2000.modes[0]!.switchovers![0]!.stats.failed).toBe(1);
    expect(at2000.buckets[5]!.failures).toEqual({});
    expect(at2000.buckets[10]!.failures).toEqual({ slow: 2 });
    expect(at2000.buckets[11]!.failures).toEqual({});
    for (const load of [at1000, at2000, ...at1000.modes, ...at2000.modes])
      expect(load.written).toBe(load.answered + load.failed + load.inFlightAtStop);
  });

  it('is exact both ways: judged at another budget and back gives the record it was', () => {
    const record = scenario(withSlowOnes, { load: 'both' });
    expect(withLatencyBudget(withLatencyBudget(record, 2000), BUDGET)).toEqual(record);
    expect(withLatencyBudget(withLatencyBudget(record, 100), 5000)).toEqual(withLatencyBudget(record, 5000));
    // As the recorder left it: every valid response answered.
    expect(moveLatencyBudget(record, BUDGET, Infinity)).toMatchObject({
      failed: 0,
      answered: record.written - 4,
      inFlightAtStop: 4,
    });
  });

  it('refuses a budget the record cannot say anything about, in one line', () => {
    const record = scenario(withSlowOnes);
    expect(() => withLatencyBudget(record, 50)).toThrow(
      '--latency-budget 50 ms is below 100 ms, the latency above which this run kept every response exactly; use 100 or more',
    );
    const older = { ...record, latencyTail: null };
    expect(withLatencyBudget(older, BUDGET)).toBe(older);
    expect(() => withLatencyBudget(older, 2000)).toThrow('it can be judged only at its own latency budget, 1000 ms');
  });
});
