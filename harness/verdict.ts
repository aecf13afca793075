// Where a verdict is reached. Pure: a run's record in, checks out, from the
// one check table below (checks/). Every check has a stable id (for tools)
// apart from its wording (for people). The record is all it reads, so a saved
// result.json can be judged again (`reuseport-lab report`).
import { type CheckDefinition, type Check, type CheckId, runChecks, type Verdict } from './checks/check.js';
import { LOAD_CHECKS } from './checks/load.js';
import { HTTP2_CHECKS } from './checks/http2.js';
import { RESTART_CHECKS, RUN_CHECK } from './checks/restarts.js';
import { FLEET_CHECKS } from './checks/fleet.js';
import { SCHEDULE_CHECK } from './checks/schedule.js';
import { SERVER_CHECKS } from './checks/servers.js';
import type { RunRecord } from './result/document.js';

export type { Check, CheckId, Verdict } from './checks/check.js';
export { MIN_ANSWERED_PER_MODE } from './checks/load.js';
export { EXIT_TOLERANCE_MS } from './checks/servers.js';

/** Every check, in the order a report lists them. */
export const CHECKS: readonly CheckDefinition[] = [
  SCHEDULE_CHECK,
  RUN_CHECK,
  ...LOAD_CHECKS,
  ...HTTP2_CHECKS,
  ...RESTART_CHECKS,
  ...SERVER_CHECKS,
  ...FLEET_CHECKS,
];

/** Judges one run against the gate: every request answered in time, and the right processes answering over time. */
export function judge(run: RunRecord): Verdict {
  let checks: Check[] = runChecks(CHECKS, run);
  // A check that no delay of the load generator can change (a version, an exit code, what was left behind) fails the run whatever the generator did.
  const standing = checks.filter((c) => !c.passed && !c.inconclusive && !TIMED_BY_THE_LOAD.has(c.id));
  if (standing.length)
    checks = checks.map(({ inconclusive, ...c }) =>
      inconclusive
        ? {
            ...c,
            detail: `${c.detail}. The run fails all the same, on checks no delay of the generator changes: ${standing.map((s) => s.id).join(', ')}`,
          }
        : c,
    );
  const inconclusive = checks.some((c) => c.inconclusive);
  return {
    passed: !inconclusive && checks.every((c) => c.passed),
    inconclusive,
    totalRequests: run.answered + run.failed,
    failedRequests: run.failed,
    checks,
  };
}

/**
 * The checks whose outcome a late load generator can change: what it timed,
 * how much it sent, and which process it heard from when (a backlog it never
 * sent leaves the newest server unheard at the end; answers it read late are
 * filed after a server's exit).
 */
const TIMED_BY_THE_LOAD = new Set<CheckId>([
  'load-on-schedule',
  'load-ran',
  'zero-failed-requests',
  'latency-budget',
  'no-stall',
  'long-lane',
  'request-mix',
  'streams',
  'http2-streams-kept',
  'new-pids-answered',
  'old-pid-silent-after-exit',
  'only-newest-at-end',
  'losses-by-task',
  'tasks-answered',
  'task-silent-after-end',
]);

/** A verdict in one word, for rows and lines. */
export function outcomeOf(verdict: Pick<Verdict, 'passed' | 'inconclusive'>): 'passed' | 'failed' | 'inconclusive' {
  return verdict.inconclusive ? 'inconclusive' : verdict.passed ? 'passed' : 'failed';
}

/** The exit code a verdict gives: 0 passed, 1 failed, 3 inconclusive (the load generator fell behind). */
export function exitCodeOf(verdict: Pick<Verdict, 'passed' | 'inconclusive'>): 0 | 1 | 3 {
  return verdict.inconclusive ? 3 : verdict.passed ? 0 : 1;
}

/** Why the PID chart says nothing of processes (which process answered is not known), or undefined. */
export function pidChartSkipped(checks: readonly Check[]): string | undefined {
  return checks.find((c) => c.id === 'new-pids-answered' && c.skipped)?.skipReason;
}
