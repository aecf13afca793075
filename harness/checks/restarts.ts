// The checks on the run and its restarts: it completed, every restart exited
// 0, and an injected fault did what it was injected for.
import { FAULTS } from '../faults.js';
import type { RunRecord } from '../result/document.js';
import type { CheckDefinition } from './check.js';

/** Restarts that a fault was injected to make roll back. */
export function expectedRollbacks(run: RunRecord): Set<number> {
  const fault = run.fault;
  return new Set(fault && FAULTS[fault.name].expectRollback ? [fault.restartIndex] : []);
}

const said = (r: RunRecord['restarts'][number]) =>
  r.messages ? `: ${r.messages.split('\n').slice(-3).join(' | ').slice(-300)}` : '';

export const RUN_CHECK: CheckDefinition = {
  id: 'run-completed',
  name: 'run completed',
  needs: [],
  judge: (run) => (run.interrupted ? [{ passed: false, detail: `interrupted: ${run.interrupted.reason}` }] : []),
};

export const RESTART_CHECKS: CheckDefinition[] = [
  {
    id: 'restarts-exited-0',
    name: 'every restart exited 0',
    needs: [],
    judge: (run) => {
      const rollbacks = expectedRollbacks(run);
      const normal = run.restarts.filter((r) => !rollbacks.has(r.index));
      const bad = normal.filter((r) => r.exitCode !== 0);
      return [
        {
          passed: bad.length === 0,
          detail:
            bad.length === 0
              ? `${normal.length} restarts`
              : bad.map((r) => r.timedOut ?? `restart ${r.index} exited ${r.exitCode}${said(r)}`).join('; '),
        },
      ];
    },
  },
  {
    id: 'rolled-back',
    // Named per restart by its judgement; this name is never shown.
    name: 'rolled back',
    // Only our own runs inject faults: where there is none, there is nothing to judge.
    needs: [],
    judge: (run) => {
      const seen = new Map(run.pids.map((p) => [p.pid, p]));
      return run.restarts
        .filter((r) => expectedRollbacks(run).has(r.index))
        .map((r) => {
          const rolledBack = r.events.find((e) => e.event === 'rolled_back');
          const old = r.oldPid === null ? undefined : seen.get(r.oldPid);
          const kept = old !== undefined && old.last > r.finishedAt;
          return {
            name: `restart ${r.index} rolled back (injected fault) and the old PID kept serving`,
            passed: r.exitCode === 1 && rolledBack !== undefined && kept,
            detail: rolledBack
              ? `rolled back: ${rolledBack.reason}; PID ${r.oldPid} ${kept ? 'kept serving' : 'did not serve afterwards'}`
              : `no rollback (exit ${r.exitCode})`,
          };
        });
    },
  },
  {
    id: 'long-request',
    // Named per fault by its judgement; this name is never shown.
    name: 'long request',
    // Only our own runs inject faults: where there is none, there is nothing to judge.
    needs: [],
    judge: (run) => {
      const long = run.fault?.slowRequest;
      if (!long) return [];
      const restart = run.restarts.find((r) => r.index === run.fault!.restartIndex);
      const byOld = long.outcome.ok && long.outcome.pid === restart?.oldPid;
      return [
        {
          name: `long request ${long.path} spanning restart ${run.fault!.restartIndex} answered by the old PID`,
          passed: byOld,
          detail: long.outcome.ok
            ? `200 from PID ${long.outcome.pid} after ${Math.round(long.outcome.latencyMs)} ms`
            : `failed: ${long.outcome.cause} after ${Math.round(long.outcome.latencyMs)} ms`,
        },
      ];
    },
  },
];
