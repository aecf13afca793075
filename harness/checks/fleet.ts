// The checks on a fleet: a replicated service updated by its orchestrator.
// Replicas are known by the name each answer carries (a host name: the
// container's short ID) and by the orchestrator's account of its tasks. A
// run without a fleet gets none of these: they do not apply to it.
import { causesText, type FailureCause } from '../load/recorder.js';
import type { RunRecord } from '../result/document.js';
import type { TaskRecord } from '../runtime/runtime.js';
import { RECENT_MS } from '../runtime/target/swarm/tasks.js';
import type { CheckDefinition, Judgement } from './check.js';
import { EXIT_TOLERANCE_MS } from './servers.js';

/** A loss this close to a task's start or stop is put down to it. */
export const TASK_CHANGE_MARGIN_MS = 1_500;

/** A loss this long after a task ended can still be a load balancer's stale entry for it. */
export const STALE_ENTRY_MS = RECENT_MS;

type Fleet = NonNullable<RunRecord['fleet']>;

/** Seconds into the run, for people: "12.3 s". */
const at = (run: RunRecord, time: number) => `${((time - run.startedAt) / 1000).toFixed(1)} s`;

/** How a report names a task: its slot and container. */
export function taskName(fleet: Fleet, task: TaskRecord): string {
  return `${fleet.service}.${task.slot ?? '?'} (container ${task.container ?? task.id.slice(0, 12)})`;
}

/** The task whose container answered under identity number `pid`, if any. */
export function taskOfIdentity(run: RunRecord, pid: number): TaskRecord | undefined {
  const name = run.identityNames?.[String(pid)];
  if (!name || !run.fleet) return undefined;
  return run.fleet.tasks.find((t) => t.container !== null && (name === t.container || name.startsWith(t.container)));
}

/** Answers per task, by the names the answers carried. */
function answersByTask(run: RunRecord): Map<TaskRecord, { count: number; last: number }> {
  const byTask = new Map<TaskRecord, { count: number; last: number }>();
  for (const p of run.pids) {
    const task = taskOfIdentity(run, p.pid);
    if (!task) continue;
    const seen = byTask.get(task) ?? { count: 0, last: 0 };
    byTask.set(task, { count: seen.count + p.count, last: Math.max(seen.last, p.last) });
  }
  return byTask;
}

/** Why per-task checks cannot be made: no answer named a task of the service. */
function unnamed(run: RunRecord): { skip: string } | undefined {
  if (answersByTask(run).size > 0) return undefined;
  const identity = run.parameters.server?.identity ?? 'the identity';
  return {
    skip: `no answer's ${identity} named a container of the service's tasks; our server sends its host name in X-Server-Host: give yours with --identity header:NAME`,
  };
}

function fleetOf(run: RunRecord): Fleet | undefined {
  return run.fleet ?? undefined;
}

/** Every task started during the run ran and answered. */
function newTasksAnswered(run: RunRecord, fleet: Fleet): Judgement {
  const skip = unnamed(run);
  if (skip) return skip;
  const answers = answersByTask(run);
  const born = fleet.tasks.filter((t) => t.createdAt >= run.startedAt);
  const problems = born.flatMap((t) => {
    if (t.runningAt === null) return [`${taskName(fleet, t)} never ran (${t.state}${t.error ? `: ${t.error}` : ''})`];
    return answers.has(t) ? [] : [`${taskName(fleet, t)} ran from ${at(run, t.runningAt)} and never answered`];
  });
  const detail = problems.length
    ? problems.join('; ')
    : born.length
      ? `${born.length} new task(s), each answered (${born.map((t) => `${t.container}: ${answers.get(t)!.count}`).join(', ')})`
      : 'no task was started during the run';
  return { passed: problems.length === 0, detail };
}

/** No answer came from a task's container after the task ended. */
function silentAfterEnd(run: RunRecord, fleet: Fleet): Judgement {
  const skip = unnamed(run);
  if (skip) return skip;
  const late = [...answersByTask(run)].filter(
    ([t, seen]) => t.endedAt !== null && seen.last > t.endedAt + EXIT_TOLERANCE_MS,
  );
  const ended = fleet.tasks.filter((t) => t.endedAt !== null && t.endedAt >= run.startedAt).length;
  return {
    passed: late.length === 0,
    detail: late.length
      ? late.map(([t, seen]) => `${taskName(fleet, t)} answered ${seen.last - t.endedAt!} ms after it ended`).join('; ')
      : `${ended} task(s) ended, none answered afterwards`,
  };
}

/** At the end the service runs as many tasks as it should, all started by the last update. */
function converged(run: RunRecord, fleet: Fleet): Judgement {
  const running = fleet.tasks.filter((t) => t.endedAt === null && t.stoppingAt === null && t.runningAt !== null);
  const last = run.restarts.at(-1);
  const stale = last && last.exitCode === 0 ? running.filter((t) => t.createdAt < last.triggeredAt) : [];
  const countOk = fleet.replicas === null || running.length === fleet.replicas;
  const others = fleet.tasks
    .filter((t) => t.endedAt === null && !running.includes(t))
    .map((t) => `${taskName(fleet, t)} ${t.stoppingAt !== null ? 'still stopping' : t.state}`);
  const update = fleet.updates.at(-1);
  const problems = [
    ...(countOk
      ? []
      : [
          `${running.length} task(s) running, the service wants ${fleet.replicas}${others.length ? ` (${others.join(', ')})` : ''}${update && update.state !== 'completed' ? `; its update ended ${update.state}` : ''}`,
        ]),
    ...stale.map((t) => `${taskName(fleet, t)} is from before the last update`),
    ...(fleet.error ? [fleet.error] : []),
  ];
  return {
    passed: problems.length === 0,
    detail: problems.length
      ? problems.join('; ')
      : `${running.length} task(s) running, ${last ? 'all started by the last update' : 'as at the start'}`,
  };
}

/** A stretch of buckets with failures, and what failed. */
interface Episode {
  from: number;
  to: number;
  failures: Partial<Record<FailureCause, number>>;
  /** How many failed in it, all causes. */
  count: number;
}

function episodes(run: RunRecord): Episode[] {
  const found: Episode[] = [];
  for (const bucket of run.buckets) {
    const count = Object.values(bucket.failures).reduce((sum, n) => sum + (n ?? 0), 0);
    if (count === 0) continue;
    const previous = found.at(-1);
    if (previous && bucket.start <= previous.to) {
      previous.to = bucket.start + run.bucketMs;
      previous.count += count;
      for (const [cause, n] of Object.entries(bucket.failures))
        previous.failures[cause as FailureCause] = (previous.failures[cause as FailureCause] ?? 0) + (n ?? 0);
    } else {
      found.push({ from: bucket.start, to: bucket.start + run.bucketMs, failures: { ...bucket.failures }, count });
    }
  }
  return found;
}

/**
 * Where a loss falls in a task's life, and so whose share it is. The swarm
 * takes a task out of the service's DNS before it sends the stop signal
 * (about 3 s before, measured here); what a load balancer does with that,
 * and with the health checks a draining server fails, decides the rest.
 */
export const LOSS_SHARES = {
  'no-replica':
    'no task of the service was running in it: the update stopped the last one before its successor ran (start-first, or more replicas, covers it)',
  'after-end':
    "the load balancer's: it still sent requests to a task that had ended (a shorter re-resolve or health-check interval covers it)",
  'after-signal':
    'the server closed its port before the load balancer stopped sending to it (a DRAIN_LISTEN_GRACE_MS longer than the balancer takes to notice covers it)',
  'before-signal': 'the task had left the DNS but was still serving',
  starting: 'a task had just started',
  none: 'no task was starting or stopping',
} as const;

type Share = keyof typeof LOSS_SHARES;

/** The tasks changing around [from, to), each with the phase the loss fell in. */
function changesDuring(run: RunRecord, fleet: Fleet, from: number, to: number): { share: Share; words: string }[] {
  const overlaps = (start: number, end: number) =>
    start - TASK_CHANGE_MARGIN_MS < to && end + TASK_CHANGE_MARGIN_MS > from;
  const found: { share: Share; words: string }[] = [];
  for (const t of fleet.tasks) {
    const name = taskName(fleet, t);
    // Stopped by the swarm, as seen (out of the DNS, signalled), or ended before the run: kept in the record only for a balancer's stale entry.
    const stopped =
      t.stoppingAt !== null || t.signalledAt !== null || (t.endedAt !== null && t.endedAt < run.startedAt);
    if (t.endedAt !== null && from >= t.endedAt && from < t.endedAt + STALE_ENTRY_MS && stopped) {
      found.push({ share: 'after-end', words: `${name} had ended at ${at(run, t.endedAt)}` });
    } else if (t.signalledAt !== null && overlaps(t.signalledAt, t.endedAt ?? run.endedAt) && to > t.signalledAt) {
      found.push({
        share: 'after-signal',
        words: `${name} had been sent its stop signal at ${at(run, t.signalledAt)}${t.endedAt !== null ? ` and ended at ${at(run, t.endedAt)}` : ''}`,
      });
    } else if (t.stoppingAt !== null && overlaps(t.stoppingAt, t.signalledAt ?? t.endedAt ?? run.endedAt)) {
      found.push({
        share: 'before-signal',
        words: `${name} was stopping (out of the DNS at ${at(run, t.stoppingAt)}${t.signalledAt !== null ? `, signalled at ${at(run, t.signalledAt)}` : ''})`,
      });
    }
    if (t.runningAt !== null && t.createdAt >= run.startedAt && overlaps(t.runningAt, t.runningAt))
      found.push({ share: 'starting', words: `${name} had just started (running at ${at(run, t.runningAt)})` });
  }
  return found;
}

const SHARE_ORDER: Share[] = ['no-replica', 'after-end', 'after-signal', 'before-signal', 'starting', 'none'];

/** Tasks that were running and still in the service (not yet out of its DNS) at `time`. */
const servingAt = (fleet: Fleet, time: number) =>
  fleet.tasks.filter(
    (t) =>
      t.runningAt !== null &&
      t.runningAt <= time &&
      (t.stoppingAt ?? Infinity) > time &&
      (t.endedAt ?? Infinity) > time,
  );

/** Every lost request, put down to the tasks that were starting or stopping when it was lost, with whose share it is. */
function lossesByTask(run: RunRecord, fleet: Fleet): Judgement {
  const found = episodes(run);
  // A failure recorded at or after the load's stop (a request still unanswered then) has no time bucket to place it in.
  const unplaced = Math.max(0, run.failed - found.reduce((sum, e) => sum + e.count, 0));
  if (found.length === 0 && unplaced === 0) {
    const started = fleet.tasks.filter((t) => t.createdAt >= run.startedAt).length;
    const stopped = fleet.tasks.filter((t) => t.endedAt !== null && t.endedAt >= run.startedAt).length;
    return { passed: true, detail: `no request lost while ${started} task(s) started and ${stopped} ended` };
  }
  const shares = new Map<Share, number>();
  const lines = found.map((e) => {
    const changes = changesDuring(run, fleet, e.from, e.to);
    // No balancer setting and no grace helps when there was nothing to send to. (Only
    // said when the tasks were followed without an error: a gap in them is no evidence.)
    if (fleet.error === null && servingAt(fleet, e.from).length === 0)
      changes.unshift({ share: 'no-replica', words: 'no task was running in the service' });
    const share = SHARE_ORDER.find((s) => s === 'none' || changes.some((c) => c.share === s))!;
    shares.set(share, (shares.get(share) ?? 0) + e.count);
    return `${e.count} lost at ${at(run, e.from)}–${at(run, e.to)} (${causesText(e.failures)}) ${changes.length ? `while ${changes.map((c) => c.words).join(' and ')}` : 'while no task was starting or stopping'}`;
  });
  const summary = [
    ...SHARE_ORDER.filter((s) => shares.has(s)).map((s) => `${shares.get(s)} when ${LOSS_SHARES[s]}`),
    ...(unplaced > 0 ? [`${unplaced} at or after the load's stop, not placed in a task's life`] : []),
  ].join('; ');
  return { passed: false, detail: lines.length ? `${summary}. ${lines.join('; ')}` : `${summary}.` };
}

/**
 * With a fleet only: nothing without one. What the check needs is asked here,
 * not in `needs`, which would list a skipped check in every run without a fleet.
 */
const withFleet =
  (judge: (run: RunRecord, fleet: Fleet) => Judgement, needsIdentities = false) =>
  (run: RunRecord): Judgement[] => {
    const fleet = fleetOf(run);
    if (!fleet) return [];
    const identities = run.runtime.observes.identities;
    if (needsIdentities && identities !== true) return [{ skip: identities }];
    return [judge(run, fleet)];
  };

export const FLEET_CHECKS: CheckDefinition[] = [
  {
    id: 'losses-by-task',
    name: 'no request lost while a task started or stopped',
    needs: [],
    judge: withFleet(lossesByTask),
  },
  { id: 'tasks-answered', name: 'every new task answered', needs: [], judge: withFleet(newTasksAnswered, true) },
  {
    id: 'task-silent-after-end',
    name: 'no answer from a task after it ended',
    needs: [],
    judge: withFleet(silentAfterEnd, true),
  },
  {
    id: 'fleet-converged',
    name: 'the service runs its replicas, all from the last update',
    needs: [],
    judge: withFleet(converged),
  },
];
