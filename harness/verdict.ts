// Where a verdict is reached. Pure: a run's record in, checks out, from the
// one check table below (checks/). Every check has a stable id (for tools)
// apart from its wording (for people). The record is all it reads, so a saved
// result.json can be judged again (`reuseport-lab report`).
import { type CheckDefinition, type Check, runChecks, type Verdict } from './checks/check.js';
import { LOAD_CHECKS } from './checks/load.js';
import { RESTART_CHECKS, RUN_CHECK } from './checks/restarts.js';
import { FLEET_CHECKS } from './checks/fleet.js';
import { SERVER_CHECKS } from './checks/servers.js';
import type { RunRecord } from './result/document.js';

export type { Check, CheckId, Verdict } from './checks/check.js';
export { MIN_ANSWERED_PER_MODE } from './checks/load.js';
export { EXIT_TOLERANCE_MS } from './checks/servers.js';

/** Every check, in the order a report lists them. */
export const CHECKS: readonly CheckDefinition[] = [RUN_CHECK, ...LOAD_CHECKS, ...RESTART_CHECKS, ...SERVER_CHECKS, ...FLEET_CHECKS];

/** Judges one run against the gate: every request answered in time, and the right processes answering over time. */
export function judge(run: RunRecord): Verdict {
  const checks: Check[] = runChecks(CHECKS, run);
  return { passed: checks.every((c) => c.passed), totalRequests: run.answered + run.failed, failedRequests: run.failed, checks };
}

/** Why the PID chart says nothing of processes (which process answered is not known), or undefined. */
export function pidChartSkipped(checks: readonly Check[]): string | undefined {
  return checks.find((c) => c.id === 'new-pids-answered' && c.skipped)?.skipReason;
}
