// The latency budget is the verdict's, not the recorder's: the recorder counts
// every valid response as answered and keeps the slowest ones exactly (the
// tail). Applying a budget moves each judged response over it from answered
// to failed (`slow`), and each request unanswered at stop and older than it
// from in flight to failed (`timeout`), in the totals, each bucket, each mode
// and each window. A record keeps the budget it was last judged at, so a
// saved run can be judged at another one: the move is exact both ways.
import { SetupError } from '../errors.js';
import {
  bucketIndex,
  bucketsOverlapping,
  type Bucket,
  type FailureCause,
  type LatencyTail,
  type WindowStats,
} from '../load/recorder.js';
import type { RunRecord } from './record.js';
import { warmupWindow } from '../strategies/timeline.js';

/** What moving from one budget to another changes in one load's record. */
interface Shift {
  /** Responses that became slow (negative: that stopped being slow), per bucket index. */
  slowByBucket: Map<number, number>;
  slow: number;
  /** Requests unanswered at stop that became timeouts (negative: back to in flight). */
  timeouts: number;
}

const over = (value: number, budgetMs: number) => Number(value > budgetMs);

function shiftOf(
  tail: LatencyTail,
  fromMs: number,
  toMs: number,
  clock: { startedAt: number; endedAt: number; bucketMs: number },
): Shift {
  const slowByBucket = new Map<number, number>();
  let slow = 0;
  for (const [at, latencyMs] of tail.responses) {
    const change = over(latencyMs, toMs) - over(latencyMs, fromMs);
    if (change === 0) continue;
    slow += change;
    // As the recorder files it: nothing after the end is in a bucket.
    if (at >= clock.endedAt) continue;
    const index = bucketIndex(at, clock.startedAt, clock.bucketMs);
    slowByBucket.set(index, (slowByBucket.get(index) ?? 0) + change);
  }
  let timeouts = 0;
  for (const age of tail.unansweredAtStop) timeouts += over(age, toMs) - over(age, fromMs);
  return { slowByBucket, slow, timeouts };
}

function withCount(
  counts: Partial<Record<FailureCause, number>>,
  cause: FailureCause,
  change: number,
): Partial<Record<FailureCause, number>> {
  if (change === 0) return counts;
  const { [cause]: before = 0, ...rest } = counts;
  return before + change === 0 ? rest : { ...counts, [cause]: before + change };
}

interface Counts {
  answered: number;
  failed: number;
  inFlightAtStop: number;
  failuresByCause: Partial<Record<FailureCause, number>>;
}

interface LoadCounts extends Counts {
  buckets: Bucket[];
}

/** The totals after the shift (a request kind keeps no buckets). */
function shiftedCounts<C extends Counts>(load: C, shift: Shift): C {
  return {
    ...load,
    answered: load.answered - shift.slow,
    failed: load.failed + shift.slow + shift.timeouts,
    inFlightAtStop: load.inFlightAtStop - shift.timeouts,
    failuresByCause: withCount(withCount(load.failuresByCause, 'slow', shift.slow), 'timeout', shift.timeouts),
  };
}

function shifted<L extends LoadCounts>(load: L, shift: Shift): L {
  return {
    ...shiftedCounts(load, shift),
    buckets: load.buckets.map((bucket, index) => {
      const change = shift.slowByBucket.get(index) ?? 0;
      return change === 0
        ? bucket
        : { ...bucket, answered: bucket.answered - change, failures: withCount(bucket.failures, 'slow', change) };
    }),
  };
}

/** A window's counts after the shift: windows count whole buckets, as the recorder's do. */
function shiftedWindow(
  stats: WindowStats,
  window: { from: number; to: number },
  shift: Shift,
  record: RunRecord,
  bucketCount: number,
): WindowStats {
  const { first, last } = bucketsOverlapping(window.from, window.to, record.startedAt, record.bucketMs, bucketCount);
  let change = 0;
  for (let index = first; index < last; index++) change += shift.slowByBucket.get(index) ?? 0;
  return change === 0 ? stats : { ...stats, answered: stats.answered - change, failed: stats.failed + change };
}

/**
 * The record as judged at `toMs` instead of `fromMs` (Infinity: as the
 * recorder left it, no budget applied). Both must be at least the tail's
 * floor, or the record says too little.
 */
export function moveLatencyBudget(record: RunRecord, fromMs: number, toMs: number): RunRecord {
  if (!record.latencyTail || fromMs === toMs)
    return { ...record, parameters: { ...record.parameters, latencyBudgetMs: toMs } };
  const clock = { startedAt: record.startedAt, endedAt: record.endedAt, bucketMs: record.bucketMs };
  const total = shiftOf(record.latencyTail, fromMs, toMs, clock);
  const warmup = warmupWindow(record.startedAt, record.bucketMs, record.restarts, record.endedAt);
  const modes = record.modes.map((mode) => {
    if (!mode.latencyTail) return mode;
    const shift = shiftOf(mode.latencyTail, fromMs, toMs, clock);
    return {
      ...shifted(mode, shift),
      steady: shiftedWindow(mode.steady, warmup, shift, record, mode.buckets.length),
      switchovers: mode.switchovers?.map((s) => {
        const window = record.switchovers.find((w) => w.index === s.index);
        return window ? { ...s, stats: shiftedWindow(s.stats, window, shift, record, mode.buckets.length) } : s;
      }),
    };
  });
  const requests =
    record.requests?.map((kind) =>
      kind.latencyTail ? shiftedCounts(kind, shiftOf(kind.latencyTail, fromMs, toMs, clock)) : kind,
    ) ?? record.requests;
  return {
    ...shifted(record, total),
    parameters: { ...record.parameters, latencyBudgetMs: toMs },
    modes,
    requests,
    steady: shiftedWindow(record.steady, warmup, total, record, record.buckets.length),
    switchovers: record.switchovers.map((w) => ({
      ...w,
      stats: shiftedWindow(w.stats, w, total, record, record.buckets.length),
    })),
  };
}

/** A saved record judged at another latency budget; a SetupError when the record cannot say. */
export function withLatencyBudget(record: RunRecord, budgetMs: number): RunRecord {
  const recordedAt = record.parameters.latencyBudgetMs;
  if (budgetMs === recordedAt) return record;
  if (!record.latencyTail) {
    throw new SetupError(
      `this result.json was written before runs kept their slowest latencies exactly (schema 5); it can be judged only at its own latency budget, ${recordedAt} ms`,
    );
  }
  if (budgetMs < record.latencyTail.aboveMs) {
    throw new SetupError(
      `--latency-budget ${budgetMs} ms is below ${record.latencyTail.aboveMs} ms, the latency above which this run kept every response exactly; use ${record.latencyTail.aboveMs} or more`,
    );
  }
  return moveLatencyBudget(record, recordedAt, budgetMs);
}
