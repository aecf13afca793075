// One check table: every check the gate makes is one entry, { id, name,
// needs, judge }. A check whose runtime cannot see what it needs is skipped
// with the runtime's reason, as data; a check that does not apply to a run
// (no fault injected, no leftovers probed) gives nothing; a check that
// cannot be made for any other reason fails and says why. A check that finds
// the run cannot be judged at all (the load generator fell behind) says so:
// inconclusive, which is never a pass and never the server's failure.
import type { Observable } from '../runtime/runtime.js';
import type { Check, CheckId, RunRecord } from '../result/record.js';

export type { Check, CheckId, Verdict } from '../result/record.js';

/** What one check made of a run: passed or not, or skipped, for a reason the run's data gives. */
export type Judgement = { passed: boolean; detail: string; name?: string; inconclusive?: boolean } | { skip: string };

export interface CheckDefinition {
  id: CheckId;
  /** For people; it may depend on what the runtime saw (a process the gate only knows by its answers). */
  name: string | ((run: RunRecord) => string);
  /** What the runtime must have seen for the check to be made. */
  needs: readonly Observable[];
  /** Zero judgements: the check does not apply; several: one per instance (a rolled-back restart each). */
  judge: (run: RunRecord) => Judgement[];
}

/** Runs every check of `table` over `run`, in the table's order. */
export function runChecks(table: readonly CheckDefinition[], run: RunRecord): Check[] {
  const checks: Check[] = [];
  for (const definition of table) {
    const name = typeof definition.name === 'function' ? definition.name(run) : definition.name;
    const unseen = definition.needs.map((need) => run.runtime.observes[need]).find((seen) => seen !== true);
    if (unseen !== undefined) {
      checks.push(skipped(definition.id, name, unseen));
      continue;
    }
    for (const judgement of definition.judge(run)) {
      if ('skip' in judgement) checks.push(skipped(definition.id, name, judgement.skip));
      else
        checks.push({
          id: definition.id,
          name: judgement.name ?? name,
          passed: judgement.passed,
          ...(judgement.inconclusive ? { inconclusive: true } : {}),
          detail: judgement.detail,
        });
    }
  }
  return checks;
}

function skipped(id: CheckId, name: string, reason: string): Check {
  return { id, name, passed: true, skipped: true, skipReason: reason, detail: `skipped: ${reason}` };
}
