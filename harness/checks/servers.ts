// The checks on the servers themselves: the old ones drained and exited, each
// new one answered, none answered after its exit or with another version,
// only the newest answers at the end, and nothing was left behind. Where the
// restart reports its steps (our scripts), processes are known by the PIDs it
// names; where it does not (a user's command), by when they first answered.
import { UNKNOWN_PID } from '../load/response-check.js';
import type { RunRecord } from '../result/document.js';
import { STRATEGIES, type StrategyName } from '../strategies/index.js';
import { timelineOf } from '../strategies/timeline.js';
import type { CheckDefinition, Judgement } from './check.js';
import { expectedRollbacks } from './restarts.js';

/**
 * Responses are timed when the harness reads them, which can trail the
 * server's write by an event-loop turn under load; the script sees a process
 * exit by polling every 50 ms. Answers this close to an exit are not "after" it.
 */
export const EXIT_TOLERANCE_MS = 250;

/** Slack on the fd count of the last server against the first one. */
export const FD_LEAK_SLACK = 10;

/** The PID expected to serve at the end: the newest that became ready. */
export function finalPid(run: Pick<RunRecord, 'target' | 'restarts'>): number {
  let pid = run.target.pid;
  for (const restart of run.restarts) {
    if (restart.exitCode === 0 && restart.newPid !== null) pid = restart.newPid;
  }
  return pid;
}

/** The version each server of the run was started with. */
export function expectedVersions(run: Pick<RunRecord, 'target' | 'restarts'>): Map<number, string> {
  const versions = new Map<number, string>([[run.target.pid, 'v1']]);
  for (const r of run.restarts) if (r.newPid !== null) versions.set(r.newPid, r.version);
  return versions;
}

/** Who sends SIGKILL to an old server that overran its drain, by strategy name. */
function killerOf(strategy: string): string {
  return strategy in STRATEGIES ? STRATEGIES[strategy as StrategyName].killer : strategy;
}

const reportsSteps = (run: RunRecord) => run.runtime.observes.restartEvents === true;
const seenPids = (run: RunRecord) => new Map(run.pids.map((p) => [p.pid, p]));

/** Processes told apart by their answers, or why none can be: no response named its process. */
function identified(run: RunRecord): RunRecord['pids'] | { skip: string } {
  const named = run.pids.filter((p) => p.pid !== UNKNOWN_PID);
  if (named.length) return named;
  const identity = run.parameters.server?.identity ?? 'an identity';
  return {
    skip: `no response carried ${identity}; name what tells your processes apart with --identity header:NAME or body:REGEX`,
  };
}

/** " (N responses carried no IDENTITY)", for a run where some responses named no process. */
function unidentifiedNote(run: RunRecord): string {
  const count = run.pids.find((p) => p.pid === UNKNOWN_PID)?.count ?? 0;
  return count > 0 ? ` (${count} responses carried no ${run.parameters.server?.identity ?? 'identity'})` : '';
}

/** How each stopped old server ended: killed, cut by its drain deadline, a non-zero exit, or no word at all. */
function oldServerEnding(run: RunRecord): Judgement {
  const stopped = run.restarts.filter((r) => r.oldPid !== null && r.events.some((e) => e.event === 'old_signalled'));
  if (run.servers === null) return { passed: false, detail: run.serversError ?? "the servers' log could not be read" };
  const endings = new Map(run.servers.map((s) => [s.pid, s]));
  const problems: string[] = [];
  for (const r of stopped) {
    const pid = r.oldPid!;
    const ending = endings.get(pid);
    if (timelineOf(r).oldGone === 'killed') {
      problems.push(
        `restart ${r.index}: PID ${pid} was killed by ${killerOf(r.strategy)} (SIGKILL after the stop timeout)`,
      );
    } else if (ending?.drainDeadline) {
      problems.push(
        `restart ${r.index}: PID ${pid} hit its drain deadline and cut ${ending.drainDeadline.cutConnections} connection(s) with ${ending.drainDeadline.cutRequests} request(s) in flight (exit ${ending.exitCode ?? '?'})`,
      );
    } else if (ending?.exitCode === null || ending === undefined) {
      problems.push(`restart ${r.index}: PID ${pid} left no exit line in the servers' log`);
    } else if (ending.exitCode !== 0) {
      problems.push(`restart ${r.index}: PID ${pid} exited ${ending.exitCode}`);
    }
  }
  return problems.length
    ? { passed: false, detail: problems.join('; ') }
    : {
        passed: true,
        detail: stopped.length ? `${stopped.length} old server(s) drained and exited 0` : 'no old server was stopped',
      };
}

/** Each restart that exited 0 brought a new PID (named by the restart) that answered. */
function newPidsNamed(run: RunRecord): Judgement {
  const seen = seenPids(run);
  const rollbacks = expectedRollbacks(run);
  const silent = run.restarts.filter(
    (r) => !rollbacks.has(r.index) && r.exitCode === 0 && (r.newPid === null || !seen.has(r.newPid)),
  );
  return {
    passed: silent.length === 0,
    detail:
      silent.length === 0
        ? 'every restarted server served requests'
        : silent.map((r) => `restart ${r.index}: PID ${r.newPid ?? '?'} never answered`).join('; '),
  };
}

/** Each restart that exited 0 was followed by a process that had not answered before it. */
function newPidsByAnswers(run: RunRecord): Judgement {
  const pids = identified(run);
  if ('skip' in pids) return pids;
  const { restarts } = run;
  const silent = restarts.filter((r, i) => {
    if (r.exitCode !== 0) return false;
    const until = restarts[i + 1]?.triggeredAt ?? run.endedAt;
    return !pids.some((p) => p.first >= r.triggeredAt && p.first < until);
  });
  const note = restarts.length ? '' : unidentifiedNote(run);
  return {
    passed: silent.length === 0,
    detail:
      (silent.length === 0
        ? `${pids.length} processes answered over the run`
        : silent.map((r) => `restart ${r.index}: no process answered that had not answered before it`).join('; ')) +
      note,
  };
}

/** After the last restart only the newest PID answers, and it does. */
function newestNamed(run: RunRecord): Judgement[] {
  const seen = seenPids(run);
  const last = finalPid(run);
  const lastRestartEnd = run.restarts.length
    ? run.restarts[run.restarts.length - 1]!.finishedAt + EXIT_TOLERANCE_MS
    : run.startedAt;
  const others = run.pids.filter((p) => p.pid !== last && p.last > lastRestartEnd);
  const finalAnswered = (seen.get(last)?.last ?? 0) > lastRestartEnd;
  return [
    {
      passed: others.length === 0 && finalAnswered,
      detail: !finalAnswered
        ? `PID ${last} did not answer after the last restart`
        : others.length
          ? `also answering: ${others.map((p) => p.pid).join(', ')}`
          : `PID ${last}`,
    },
  ];
}

/**
 * When `pid` last answered a request other than the long lane's, to the
 * bucket: a draining process finishing a long request it took before the
 * restart is doing its job, not still taking work.
 */
function lastAnswerOutsideLane(run: RunRecord, pid: { pid: number; last: number }): number {
  const lane = run.longLane;
  if (!lane) return pid.last;
  const key = String(pid.pid);
  for (let index = run.buckets.length - 1; index >= 0; index--) {
    const bucket = run.buckets[index]!;
    if ((bucket.pids[key] ?? 0) > (lane.buckets[index]?.pids[key] ?? 0))
      return Math.min(bucket.start + run.bucketMs, pid.last);
  }
  return -Infinity;
}

/** In the second half of the time after the last restart (a drain may take the first), no process from before it answers. */
function newestByAnswers(run: RunRecord): Judgement[] {
  const pids = identified(run);
  if ('skip' in pids) return [pids];
  const last = run.restarts.at(-1);
  if (!last) return [];
  const tail = last.finishedAt + (run.endedAt - last.finishedAt) / 2;
  const answersLate = (p: (typeof pids)[number]) => lastAnswerOutsideLane(run, p) > tail;
  const late = pids.filter((p) => answersLate(p) && p.first < last.triggeredAt);
  const laneNote = run.longLane ? ' (long requests a process was finishing from before are not counted)' : '';
  const detail =
    late.length === 0
      ? `answering at the end: ${
          pids
            .filter(answersLate)
            .map((p) => p.pid)
            .join(', ') || 'none'
        }`
      : `still answering at the end, from before the last restart: ${late.map((p) => p.pid).join(', ')}`;
  return [{ passed: late.length === 0, detail: detail + laneNote + unidentifiedNote(run) }];
}

export const SERVER_CHECKS: CheckDefinition[] = [
  {
    id: 'old-server-ending',
    name: 'old servers drained and exited 0 by themselves',
    needs: ['exitLines', 'restartEvents'],
    judge: (run) => [oldServerEnding(run)],
  },
  {
    id: 'new-pids-answered',
    name: (run) => (reportsSteps(run) ? 'each new PID answered' : 'each restart brought a new process that answered'),
    needs: ['identities'],
    judge: (run) => [reportsSteps(run) ? newPidsNamed(run) : newPidsByAnswers(run)],
  },
  {
    id: 'old-pid-silent-after-exit',
    name: 'old PID silent after its exit',
    needs: ['restartEvents', 'identities'],
    judge: (run) => {
      const seen = seenPids(run);
      const late: string[] = [];
      for (const restart of run.restarts) {
        const exitedAt = timelineOf(restart).oldGoneAt;
        const old = restart.oldPid === null ? undefined : seen.get(restart.oldPid);
        if (old && exitedAt !== undefined && old.last > exitedAt + EXIT_TOLERANCE_MS)
          late.push(`restart ${restart.index}: PID ${old.pid} answered ${old.last - exitedAt} ms after it exited`);
      }
      return [
        {
          passed: late.length === 0,
          detail: late.length === 0 ? 'no answer from a PID after its exit' : late.join('; '),
        },
      ];
    },
  },
  {
    id: 'versions',
    name: 'every PID answered with its own version',
    needs: ['versions', 'restartEvents', 'identities'],
    judge: (run) => {
      const expected = expectedVersions(run);
      const wrong: string[] = [];
      for (const p of run.pids) {
        const version = expected.get(p.pid);
        if (version === undefined) wrong.push(`PID ${p.pid} answered but is no server of this run`);
        else if (p.versions.some((v) => v !== version))
          wrong.push(`PID ${p.pid} answered as ${p.versions.join(', ')}, expected ${version}`);
      }
      return [
        {
          passed: wrong.length === 0,
          detail:
            wrong.length === 0
              ? `${run.pids.length} PIDs, each with the version it was started with`
              : wrong.join('; '),
        },
      ];
    },
  },
  {
    id: 'only-newest-at-end',
    name: (run) =>
      reportsSteps(run)
        ? 'only the newest PID answers at the end'
        : 'only processes started by the last restart answer at the end',
    needs: ['identities'],
    judge: (run) => (reportsSteps(run) ? newestNamed(run) : newestByAnswers(run)),
  },
  {
    id: 'no-leftovers',
    // Which processes are servers, and whose fds to count, only the restart's own account says: without it, zombies are what can be judged.
    name: (run) =>
      reportsSteps(run) ? 'no leftover processes, zombies or leaked fds' : 'no zombies left in the container',
    needs: ['processes'],
    judge: (run) => {
      if (run.leftoversError) return [{ passed: false, detail: run.leftoversError }];
      const left = run.leftovers;
      if (!left) return [];
      if (reportsSteps(run)) {
        const last = finalPid(run);
        const extra = left.serverProcesses.filter((p) => p.pid !== last);
        const leak =
          left.lastServerFds !== null &&
          left.firstServerFds !== null &&
          left.lastServerFds > left.firstServerFds + FD_LEAK_SLACK;
        return [
          {
            passed: extra.length === 0 && left.zombies === 0 && !leak,
            detail: `${left.serverProcesses.length} server process(es)${extra.length ? ` (extra: ${extra.map((p) => `${p.pid} ${p.state}`).join(', ')})` : ''}, ${left.zombies} zombies, fds ${left.firstServerFds} at start and ${left.lastServerFds} at the end`,
          },
        ];
      }
      // Only zombies fail it: a process count also holds a server's short-lived helpers (a sleep, a health check), so it is told, not judged.
      const atStart = left.processesAtStart ?? left.serverProcesses.length;
      return [
        {
          passed: left.zombies === 0,
          detail: `${left.zombies} zombies; ${left.serverProcesses.length} processes in the container at the end (docker top), ${atStart} once it was ready`,
        },
      ];
    },
  },
];
