// The generator is judged first. In the open model every request has a time
// it was due, and the verdict's latencies run from it: a harness that sent
// late charged its own delay to the server, and a load whose connections
// were all busy before any restart never offered the rate it was asked to.
// Either way what was measured is not the restart, and the run is
// inconclusive: never a pass, and never the server's failure. One thing a
// late harness cannot do is make a request fail that would have passed by
// more than its own delay: a reset, or an answer slower than the budget plus
// the harness's longest delay, is the server's whatever the harness did. A
// run that has such failures, and whose rate was offered before the first
// restart, fails as it would have. The closed model keeps no schedule and
// gets no such check.
import { harnessIn } from '../load/harness-monitor.js';
import { LATE_SEND_MS, type ScheduleBucket, type ScheduleRecord } from '../load/arrivals.js';
import { MODE_NAMES, type LoadMode } from '../load/modes.js';
import type { RunRecord } from '../result/document.js';
import { warmupWindow } from '../strategies/timeline.js';
import type { CheckDefinition } from './check.js';
import { count as n, percent as pct } from '../format.js';

/**
 * More than this share of a mode's requests sent over LATE_SEND_MS after
 * they fell due, and the harness was behind. Chosen from measurements
 * (docs/how-it-works.md, "The open model"): 100 default runs here sent none late; 100
 * beside two CPU hogs sent at most 39 of about 12,000 (0.3%) late; a run
 * whose harness was starved by a compile beside it sent 8.9% and 17% late.
 */
export const LATE_SHARE_LIMIT = 0.01;

/**
 * More than this share of the warm-up's requests waited over LATE_SEND_MS
 * for a connection, and the load did not offer its rate before any restart
 * (the target did not keep up with it on that many connections): nothing
 * after can be compared with it. A shorter wait (a pause of the target's
 * for garbage collection, say) is in the requests' latencies and judged
 * there; after the first restart a wait is the restart's and judged so.
 */
export const WARMUP_WAIT_LIMIT = 0.01;

const at = (run: RunRecord, time: number) => `${((time - run.startedAt) / 1000).toFixed(2)} s`;

interface ModeSchedule {
  mode: LoadMode;
  schedule: ScheduleRecord;
}

/** The modes that ran on a schedule (none in the closed model). */
export function schedulesOf(run: RunRecord): ModeSchedule[] {
  return run.modes.flatMap((m) => (m.schedule ? [{ mode: m.mode, schedule: m.schedule }] : []));
}

/** The buckets of a schedule whose start lies in [from, to). */
function bucketsIn(run: RunRecord, buckets: readonly ScheduleBucket[], from: number, to: number): ScheduleBucket[] {
  return buckets.filter((_, i) => {
    const start = run.startedAt + i * run.bucketMs;
    return start >= from && start < to;
  });
}

/** Why the generator fell behind in one mode: it sent late, or the rate was never offered; nothing when it kept its schedule. */
function behind(run: RunRecord, { mode, schedule }: ModeSchedule): { late?: string; notOffered?: string } {
  const reasons: { late?: string; notOffered?: string } = {};
  if (schedule.due > 0 && schedule.late / schedule.due > LATE_SHARE_LIMIT) {
    const first = schedule.buckets.findIndex((b) => b.late > 0);
    const from = run.startedAt + first * run.bucketMs;
    const worst = schedule.buckets.reduce((a, b) => (b.lagMaxMs > a.lagMaxMs ? b : a));
    const to = run.startedAt + (schedule.buckets.indexOf(worst) + 1) * run.bucketMs;
    const harness = harnessIn(run.harness, run.bucketMs, from, to);
    const machine = harness.machineBusy !== null ? `, CPUs ${Math.round(harness.machineBusy * 100)}% busy` : '';
    reasons.late = `${MODE_NAMES[mode]}: the harness sent ${n(schedule.late)} of ${n(schedule.due)} requests (${pct(schedule.late / schedule.due)}) more than ${LATE_SEND_MS} ms after they were due, up to ${n(schedule.lagMaxMs)} ms, from ${at(run, from)} (its event loop up to ${harness.loopDelayMaxMs} ms late${machine})`;
  }
  const warmup = warmupWindow(run.startedAt, run.bucketMs, run.restarts, run.endedAt);
  const steady = bucketsIn(run, schedule.buckets, warmup.from, warmup.to);
  const due = steady.reduce((sum, b) => sum + b.due, 0);
  const waited = steady.reduce((sum, b) => sum + b.waitedLate, 0);
  if (due > 0 && waited / due > WARMUP_WAIT_LIMIT) {
    reasons.notOffered = `${MODE_NAMES[mode]}: before the first restart ${n(waited)} of ${n(due)} requests (${pct(waited / due)}) waited over ${LATE_SEND_MS} ms for one of the ${n(schedule.maxConnections)} connections: the target did not keep up with ${n(schedule.ratePerSecond)}/s on that many (a lower --rate, or more --max-connections)`;
  }
  return reasons;
}

/**
 * The load's failures that no delay of the harness can explain: causes
 * other than slow and timeout (a reset is a reset), and responses slower
 * than the budget plus the harness's longest delay, sending and reading
 * (its longest lag handing a request out, and its event loop's longest
 * delay). In words, or undefined when there are none.
 */
export function failuresNotTheHarness(run: RunRecord): string | undefined {
  const lagMs = Math.max(0, ...schedulesOf(run).map((m) => m.schedule.lagMaxMs));
  const loopMs = Math.max(0, ...run.harness.map((b) => b.loopDelayMaxMs));
  const beyondMs = run.parameters.latencyBudgetMs + lagMs + loopMs;
  const slow = (run.latencyTail?.responses ?? []).filter(([, latency]) => latency > beyondMs).length;
  const others = Object.entries(run.failuresByCause).filter(([cause]) => cause !== 'slow' && cause !== 'timeout');
  const parts = [
    ...(slow
      ? [
          `${n(slow)} responses slower than ${n(beyondMs)} ms (the budget, plus ${n(lagMs + loopMs)} ms the harness could have added)`,
        ]
      : []),
    ...others.map(([cause, count]) => `${n(count ?? 0)} ${cause}`),
  ];
  return parts.length ? parts.join(', ') : undefined;
}

function kept({ mode, schedule }: ModeSchedule): string {
  const waited = schedule.waited
    ? `, ${n(schedule.waited)} waited for a connection (${n(schedule.waitedLate)} over ${LATE_SEND_MS} ms)`
    : '';
  return `${MODE_NAMES[mode]}: ${n(schedule.due)} due at ${n(schedule.ratePerSecond)}/s, ${n(schedule.late)} sent late${waited} (at most ${n(schedule.connectionsMax)} connections open, the harness's longest lag ${n(schedule.lagMaxMs)} ms)`;
}

export const SCHEDULE_CHECK: CheckDefinition = {
  id: 'load-on-schedule',
  name: `the load kept its schedule (requests sent within ${LATE_SEND_MS} ms of when they were due; the rate reached before the first restart)`,
  needs: [],
  judge: (run) => {
    const modes = schedulesOf(run);
    if (!modes.length) return [];
    const found = modes.map((m) => behind(run, m));
    const late = found.flatMap((r) => (r.late ? [r.late] : []));
    const notOffered = found.flatMap((r) => (r.notOffered ? [r.notOffered] : []));
    if (!late.length && !notOffered.length) return [{ passed: true, detail: modes.map(kept).join('; ') }];
    const reasons = [...late, ...notOffered].join('; ');
    // Sent late, but the rate was offered: what the lateness cannot explain still fails the server.
    const standing = notOffered.length ? undefined : failuresNotTheHarness(run);
    if (standing)
      return [
        {
          passed: false,
          detail: `the load generator fell behind: ${reasons}. The run fails all the same, on what that cannot explain: ${standing}`,
        },
      ];
    return [
      {
        passed: false,
        inconclusive: true,
        detail: `inconclusive, the load generator fell behind: ${reasons}. What it measured is partly its own delay, so neither a pass nor a failure of the server can be read from it; run again on a quieter machine or with a lower --rate`,
      },
    ];
  },
};
