// Where a verdict is reached. Pure: a ScenarioResult in, checks out.
import type { ScenarioResult } from './scenario.js';

/**
 * Responses are timed when the harness reads them, which can trail the
 * server's write by an event-loop turn under load; the script sees a process
 * exit by polling every 50 ms. Answers this close to an exit are not "after" it.
 */
export const EXIT_TOLERANCE_MS = 250;

export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

export interface Verdict {
  passed: boolean;
  totalRequests: number;
  failedRequests: number;
  checks: Check[];
}

/** The PID expected to serve at the end: the newest that became ready. */
export function finalPid(result: ScenarioResult): number {
  let pid = result.target.pid;
  for (const restart of result.restarts) {
    if (restart.exitCode === 0 && restart.newPid !== null) pid = restart.newPid;
  }
  return pid;
}

function exitTime(restart: ScenarioResult['restarts'][number]): number | undefined {
  return restart.events.find((e) => e.event === 'old_exited' || e.event === 'old_killed')?.ts;
}

/** Judges one run against the gate: zero failed requests and the right PID distribution over time. */
export function judge(result: ScenarioResult): Verdict {
  const { load, restarts } = result;
  const seen = new Map(load.pids.map((p) => [p.pid, p]));
  const checks: Check[] = [];
  const add = (name: string, passed: boolean, detail: string) => checks.push({ name, passed, detail });

  const causes = Object.entries(load.failuresByCause).map(([cause, count]) => `${count} ${cause}`).join(', ');
  add('zero failed requests', load.failed === 0, load.failed === 0 ? `${load.answered} answered, none failed` : `${load.failed} of ${load.answered + load.failed} failed (${causes})`);

  if (result.interrupted) add('run completed', false, `interrupted: ${result.interrupted}`);

  const badExits = restarts.filter((r) => r.exitCode !== 0);
  add('every restart exited 0', badExits.length === 0, badExits.length === 0 ? `${restarts.length} restarts` : badExits.map((r) => `restart ${r.index} exited ${r.exitCode}`).join('; '));

  const silentNew = restarts.filter((r) => r.exitCode === 0 && (r.newPid === null || !seen.has(r.newPid)));
  add('each new PID answered', silentNew.length === 0, silentNew.length === 0 ? 'every restarted server served requests' : silentNew.map((r) => `restart ${r.index}: PID ${r.newPid ?? '?'} never answered`).join('; '));

  const lateOld: string[] = [];
  for (const restart of restarts) {
    const exitedAt = exitTime(restart);
    const old = restart.oldPid === null ? undefined : seen.get(restart.oldPid);
    if (old && exitedAt !== undefined && old.last > exitedAt + EXIT_TOLERANCE_MS) {
      lateOld.push(`restart ${restart.index}: PID ${old.pid} answered ${old.last - exitedAt} ms after it exited`);
    }
  }
  add('old PID silent after its exit', lateOld.length === 0, lateOld.length === 0 ? 'no answer from a PID after its exit' : lateOld.join('; '));

  const last = finalPid(result);
  const lastRestartEnd = restarts.length ? restarts[restarts.length - 1]!.finishedAt + EXIT_TOLERANCE_MS : load.startedAt;
  const others = load.pids.filter((p) => p.pid !== last && p.last > lastRestartEnd);
  const finalAnswered = (seen.get(last)?.last ?? 0) > lastRestartEnd;
  add(
    'only the newest PID answers at the end',
    others.length === 0 && finalAnswered,
    !finalAnswered ? `PID ${last} did not answer after the last restart` : others.length ? `also answering: ${others.map((p) => p.pid).join(', ')}` : `PID ${last}`,
  );

  return {
    passed: checks.every((c) => c.passed),
    totalRequests: load.answered + load.failed,
    failedRequests: load.failed,
    checks,
  };
}
