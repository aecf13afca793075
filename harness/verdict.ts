// Where a verdict is reached. Pure: a ScenarioResult in, checks out.
import { FAULTS } from './faults.js';
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

/** Slack on the fd count of the last server against the first one. */
export const FD_LEAK_SLACK = 10;

/** Restarts that a fault was injected to make roll back. */
function expectedRollbacks(result: ScenarioResult): Set<number> {
  const fault = result.fault;
  return new Set(fault && FAULTS[fault.name].expectRollback ? [fault.restartIndex] : []);
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

  const rollbacks = expectedRollbacks(result);
  const normal = restarts.filter((r) => !rollbacks.has(r.index));
  const badExits = normal.filter((r) => r.exitCode !== 0);
  add('every restart exited 0', badExits.length === 0, badExits.length === 0 ? `${normal.length} restarts` : badExits.map((r) => r.timedOut ?? `restart ${r.index} exited ${r.exitCode}`).join('; '));

  for (const r of restarts.filter((x) => rollbacks.has(x.index))) {
    const rolledBack = r.events.find((e) => e.event === 'rolled_back');
    const old = r.oldPid === null ? undefined : seen.get(r.oldPid);
    const kept = old !== undefined && old.last > r.finishedAt;
    add(
      `restart ${r.index} rolled back (injected fault) and the old PID kept serving`,
      r.exitCode === 1 && rolledBack !== undefined && kept,
      rolledBack ? `rolled back: ${rolledBack.reason}; PID ${r.oldPid} ${kept ? 'kept serving' : 'did not serve afterwards'}` : `no rollback (exit ${r.exitCode})`,
    );
  }

  const slow = result.fault?.slowRequest;
  if (slow) {
    const restart = restarts.find((r) => r.index === result.fault!.restartIndex);
    const byOld = slow.outcome.ok && slow.outcome.pid === restart?.oldPid;
    add(
      `long request ${slow.path} spanning restart ${result.fault!.restartIndex} answered by the old PID`,
      byOld,
      slow.outcome.ok ? `200 from PID ${slow.outcome.pid} after ${Math.round(slow.outcome.latencyMs)} ms` : `failed: ${slow.outcome.cause} after ${Math.round(slow.outcome.latencyMs)} ms`,
    );
  }

  const killed = restarts.filter((r) => r.events.some((e) => e.event === 'old_killed'));
  add(
    'old servers exited by themselves',
    killed.length === 0,
    killed.length === 0
      ? 'every old server drained and exited'
      : killed.map((r) => `restart ${r.index}: PID ${r.oldPid} was killed by ${r.strategy === 'naive' ? 'naive-restart.sh' : 'restart.sh'} (SIGKILL after the stop timeout)`).join('; '),
  );

  const silentNew = normal.filter((r) => r.exitCode === 0 && (r.newPid === null || !seen.has(r.newPid)));
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

  const left = result.leftovers;
  if (left) {
    const extra = left.serverProcesses.filter((p) => p.pid !== last);
    const leak = left.lastServerFds > left.firstServerFds + FD_LEAK_SLACK;
    add(
      'no leftover processes, zombies or leaked fds',
      extra.length === 0 && left.zombies === 0 && !leak,
      `${left.serverProcesses.length} server process(es)${extra.length ? ` (extra: ${extra.map((p) => `${p.pid} ${p.state}`).join(', ')})` : ''}, ${left.zombies} zombies, fds ${left.firstServerFds} at start and ${left.lastServerFds} at the end`,
    );
  }

  return {
    passed: checks.every((c) => c.passed),
    totalRequests: load.answered + load.failed,
    failedRequests: load.failed,
    checks,
  };
}
