// Where a verdict is reached. Pure: a ScenarioResult in, checks out. Every
// check has a stable id (for tools) apart from its wording (for people), and
// a check that cannot be made fails with its reason: none disappears.
import { evidenceText, restartsWhere } from './evidence.js';
import { FAULTS } from './faults.js';
import { UNKNOWN_PID } from './gate/identity.js';
import type { LatencySummary, LoadSnapshot } from './load/recorder.js';
import { modesOf, type LoadMode, type ScenarioResult } from './scenario.js';
import { STRATEGIES, type StrategyName } from './strategies/index.js';

/**
 * Responses are timed when the harness reads them, which can trail the
 * server's write by an event-loop turn under load; the script sees a process
 * exit by polling every 50 ms. Answers this close to an exit are not "after" it.
 */
export const EXIT_TOLERANCE_MS = 250;

/** Slack on the fd count of the last server against the first one. */
export const FD_LEAK_SLACK = 10;

/** Each load mode must answer at least this many requests, or the load did not run. */
export const MIN_ANSWERED_PER_MODE = 100;

export type CheckId =
  | 'run-completed'
  | 'load-ran'
  | 'zero-failed-requests'
  | 'latency-budget'
  | 'no-stall'
  | 'accounting'
  | 'restarts-exited-0'
  | 'rolled-back'
  | 'long-request'
  | 'old-server-ending'
  | 'new-pids-answered'
  | 'old-pid-silent-after-exit'
  | 'versions'
  | 'only-newest-at-end'
  | 'no-leftovers';

export interface Check {
  id: CheckId;
  name: string;
  passed: boolean;
  /** The check could not apply (passed is then true): detail says why. */
  skipped?: boolean;
  detail: string;
}

export interface Verdict {
  passed: boolean;
  totalRequests: number;
  failedRequests: number;
  checks: Check[];
}

export const MODE_NAMES: Record<LoadMode, string> = { keepalive: 'keep-alive', churn: 'new connection per request' };

const ms = (value: number) => `${Math.round(value)} ms`;
const latencyText = (l: LatencySummary | null) => (l ? `p99 ${ms(l.p99)}, max ${ms(l.max)}` : 'no responses');

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

/** The version each server of the run was started with. */
export function expectedVersions(result: ScenarioResult): Map<number, string> {
  const versions = new Map<number, string>([[result.target.pid, 'v1']]);
  for (const r of result.restarts) if (r.newPid !== null) versions.set(r.newPid, r.version);
  return versions;
}

function exitTime(restart: ScenarioResult['restarts'][number]): number | undefined {
  return restart.events.find((e) => e.event === 'old_exited' || e.event === 'old_killed')?.ts;
}

/**
 * Stalls are judged over this much time (whole buckets, at least one): a
 * single 250 ms bucket dips to 8% of the warm-up rate in normal restarts on
 * 2 cores (the burst of reconnects after SIGTERM), then the backlog catches
 * up; over 500 ms normal runs stayed above 43%, while a 1 s stall holds every
 * 500 ms inside it near 0. See README, "Latency and stalls".
 */
export const STALL_WINDOW_MS = 500;

/** The median of the buckets' answered counts in [from, to). */
function medianAnswered(load: LoadSnapshot, from: number, to: number): number {
  const counts = load.buckets.filter((b) => b.start >= from && b.start + load.bucketMs <= to).map((b) => b.answered).sort((a, b) => a - b);
  return counts.length ? counts[Math.floor(counts.length / 2)]! : NaN;
}

export interface Stall {
  restart: number;
  /** Start of the stalled stretch, ms since the epoch. */
  at: number;
  answered: number;
  /** What the warm-up answered in as long. */
  expected: number;
}

/**
 * Stretches of STALL_WINDOW_MS overlapping a switchover window that answered
 * fewer than `stallFloor` times what the warm-up's median bucket answers in
 * as long. The warm-up's first bucket (ramp-up) and a last bucket cut short
 * by the end of the load are left out. A string when there is nothing to
 * compare with.
 */
export function stalls(result: ScenarioResult, mode: LoadMode): Stall[] | string {
  const load = result.modes.find((m) => m.mode === mode)!.load;
  const firstRestart = result.restarts[0]?.triggeredAt ?? load.endedAt;
  const median = medianAnswered(load, load.startedAt + load.bucketMs, firstRestart);
  if (!(median > 0)) return `no warm-up to compare with (${MODE_NAMES[mode]} answered nothing before restart #1)`;
  const span = Math.max(1, Math.round(STALL_WINDOW_MS / load.bucketMs));
  const expected = median * span;
  const found: Stall[] = [];
  for (const window of result.switchovers) {
    for (let i = 0; i + span <= load.buckets.length; i++) {
      const start = load.buckets[i]!.start;
      const end = start + span * load.bucketMs;
      if (end <= window.from || start >= window.to || end > load.endedAt) continue;
      const answered = load.buckets.slice(i, i + span).reduce((sum, b) => sum + b.answered, 0);
      if (answered < result.options.stallFloor * expected) found.push({ restart: window.index, at: start, answered, expected });
    }
  }
  return found;
}

/** What the other load modes answered in the same stretch: a server that answered them was not stalled itself. */
function othersMeanwhile(result: ScenarioResult, stalled: LoadMode, at: number): string {
  const others = result.modes.filter((m) => m.mode !== stalled);
  return others
    .map(({ mode, load }) => {
      const answered = load.buckets.filter((b) => b.start >= at && b.start < at + STALL_WINDOW_MS).reduce((sum, b) => sum + b.answered, 0);
      const warm = medianAnswered(load, load.startedAt + load.bucketMs, result.restarts[0]?.triggeredAt ?? load.endedAt) * Math.max(1, Math.round(STALL_WINDOW_MS / load.bucketMs));
      return ` (${MODE_NAMES[mode]} answered ${answered} meanwhile, against ${warm} in the warm-up)`;
    })
    .join('');
}

/** Judges one run against the gate: every request answered in time, and the right PID distribution over time. */
export function judge(result: ScenarioResult): Verdict {
  const { load, restarts, options } = result;
  const seen = new Map(load.pids.map((p) => [p.pid, p]));
  const checks: Check[] = [];
  const add = (id: CheckId, name: string, passed: boolean, detail: string) => checks.push({ id, name, passed, detail });
  const modes = modesOf(options.load);
  const modeLoad = (mode: LoadMode) => result.modes.find((m) => m.mode === mode)!.load;

  if (result.interrupted) add('run-completed', 'run completed', false, `interrupted: ${result.interrupted.reason}`);

  const thin = modes.filter((mode) => modeLoad(mode).answered < MIN_ANSWERED_PER_MODE);
  add(
    'load-ran',
    'the load ran',
    thin.length === 0,
    thin.length === 0
      ? modes.map((mode) => `${MODE_NAMES[mode]}: ${modeLoad(mode).answered} answered`).join('; ')
      : `the load did not run: ${thin.map((mode) => `${MODE_NAMES[mode]} answered only ${modeLoad(mode).answered} requests (at least ${MIN_ANSWERED_PER_MODE} needed)`).join('; ')}`,
  );

  const causes = Object.entries(load.failuresByCause).map(([cause, count]) => `${count} ${cause}`).join(', ');
  // A failure names what else the switchovers it fell in saw (evidence.ts).
  const source = { ...result, bucketMs: load.bucketMs };
  const seenWith = (holds: Parameters<typeof restartsWhere>[2]) => {
    const text = evidenceText(source, restartsWhere(source, load, holds));
    return text ? `. ${text}` : '';
  };
  add(
    'zero-failed-requests',
    'zero failed requests',
    load.failed === 0,
    load.failed === 0 ? `${load.answered} answered, none failed` : `${load.failed} of ${load.answered + load.failed} failed (${causes})${seenWith((b) => Object.keys(b.failures).length > 0)}`,
  );

  const slow = load.failuresByCause.slow ?? 0;
  const worst = result.switchovers.reduce<(typeof result.switchovers)[number] | undefined>((a, b) => ((b.stats.latency?.p99 ?? 0) > (a?.stats.latency?.p99 ?? -1) ? b : a), undefined);
  const against = `steady ${latencyText(result.steady.latency)}`;
  add(
    'latency-budget',
    `every response within ${ms(options.latencyBudgetMs)}`,
    slow === 0,
    (slow === 0 ? 'none slower' : `${slow} responses slower than the budget`) +
      (worst ? `; slowest switchover: restart #${worst.index}, ${latencyText(worst.stats.latency)} (${against})` : `; ${against}`) +
      (slow === 0 ? '' : seenWith((b) => (b.failures.slow ?? 0) > 0)),
  );

  const stallLines: string[] = [];
  let stallPassed = true;
  for (const mode of modes) {
    const found = stalls(result, mode);
    if (typeof found === 'string') {
      stallPassed = false;
      stallLines.push(found);
    } else if (found.length) {
      stallPassed = false;
      const first = found[0]!;
      stallLines.push(
        `${MODE_NAMES[mode]}: restart #${first.restart} answered ${first.answered} in ${STALL_WINDOW_MS} ms from ${((first.at - load.startedAt) / 1000).toFixed(2)} s, against ${first.expected} in the warm-up${found.length > 1 ? ` (${found.length} stalled stretches)` : ''}` +
          othersMeanwhile(result, mode, first.at) +
          `. ${evidenceText({ ...result, bucketMs: load.bucketMs }, [...new Set(found.map((f) => f.restart))])}`,
      );
    }
  }
  add('no-stall', `no stall during a switchover (no ${STALL_WINDOW_MS} ms below ${Math.round(options.stallFloor * 100)}% of the warm-up rate)`, stallPassed, stallPassed ? `every switchover above the floor in ${modes.map((m) => MODE_NAMES[m]).join(' and ')} load` : stallLines.join('; '))

  const ledger = (name: string, l: LoadSnapshot) => ({ ok: l.written === l.answered + l.failed + l.inFlightAtStop, text: `${name}: ${l.written} written = ${l.answered} answered + ${l.failed} failed + ${l.inFlightAtStop} in flight at stop` });
  const ledgers = [...modes.map((mode) => ledger(MODE_NAMES[mode], modeLoad(mode))), ledger('all', load)];
  add('accounting', 'every request accounted for', ledgers.every((l) => l.ok), ledgers.map((l) => (l.ok ? l.text : `MISMATCH ${l.text}`)).join('; '));

  const rollbacks = expectedRollbacks(result);
  const normal = restarts.filter((r) => !rollbacks.has(r.index));
  const badExits = normal.filter((r) => r.exitCode !== 0);
  const said = (r: (typeof restarts)[number]) => (r.messages ? `: ${r.messages.split('\n').slice(-3).join(' | ').slice(-300)}` : '');
  add('restarts-exited-0', 'every restart exited 0', badExits.length === 0, badExits.length === 0 ? `${normal.length} restarts` : badExits.map((r) => r.timedOut ?? `restart ${r.index} exited ${r.exitCode}${said(r)}`).join('; '));
  if (options.foreign) {
    for (const check of foreignChecks(result)) checks.push(check);
    return { passed: checks.every((c) => c.passed), totalRequests: load.answered + load.failed, failedRequests: load.failed, checks };
  }

  for (const r of restarts.filter((x) => rollbacks.has(x.index))) {
    const rolledBack = r.events.find((e) => e.event === 'rolled_back');
    const old = r.oldPid === null ? undefined : seen.get(r.oldPid);
    const kept = old !== undefined && old.last > r.finishedAt;
    add(
      'rolled-back',
      `restart ${r.index} rolled back (injected fault) and the old PID kept serving`,
      r.exitCode === 1 && rolledBack !== undefined && kept,
      rolledBack ? `rolled back: ${rolledBack.reason}; PID ${r.oldPid} ${kept ? 'kept serving' : 'did not serve afterwards'}` : `no rollback (exit ${r.exitCode})`,
    );
  }

  const long = result.fault?.slowRequest;
  if (long) {
    const restart = restarts.find((r) => r.index === result.fault!.restartIndex);
    const byOld = long.outcome.ok && long.outcome.pid === restart?.oldPid;
    add(
      'long-request',
      `long request ${long.path} spanning restart ${result.fault!.restartIndex} answered by the old PID`,
      byOld,
      long.outcome.ok ? `200 from PID ${long.outcome.pid} after ${Math.round(long.outcome.latencyMs)} ms` : `failed: ${long.outcome.cause} after ${Math.round(long.outcome.latencyMs)} ms`,
    );
  }

  add('old-server-ending', 'old servers drained and exited 0 by themselves', ...oldServerEnding(result));

  const silentNew = normal.filter((r) => r.exitCode === 0 && (r.newPid === null || !seen.has(r.newPid)));
  add('new-pids-answered', 'each new PID answered', silentNew.length === 0, silentNew.length === 0 ? 'every restarted server served requests' : silentNew.map((r) => `restart ${r.index}: PID ${r.newPid ?? '?'} never answered`).join('; '));

  const lateOld: string[] = [];
  for (const restart of restarts) {
    const exitedAt = exitTime(restart);
    const old = restart.oldPid === null ? undefined : seen.get(restart.oldPid);
    if (old && exitedAt !== undefined && old.last > exitedAt + EXIT_TOLERANCE_MS) {
      lateOld.push(`restart ${restart.index}: PID ${old.pid} answered ${old.last - exitedAt} ms after it exited`);
    }
  }
  add('old-pid-silent-after-exit', 'old PID silent after its exit', lateOld.length === 0, lateOld.length === 0 ? 'no answer from a PID after its exit' : lateOld.join('; '));

  const expected = expectedVersions(result);
  const wrong: string[] = [];
  for (const p of load.pids) {
    const version = expected.get(p.pid);
    if (version === undefined) wrong.push(`PID ${p.pid} answered but is no server of this run`);
    else if (p.versions.some((v) => v !== version)) wrong.push(`PID ${p.pid} answered as ${p.versions.join(', ')}, expected ${version}`);
  }
  add('versions', 'every PID answered with its own version', wrong.length === 0, wrong.length === 0 ? `${load.pids.length} PIDs, each with the version it was started with` : wrong.join('; '));

  const last = finalPid(result);
  const lastRestartEnd = restarts.length ? restarts[restarts.length - 1]!.finishedAt + EXIT_TOLERANCE_MS : load.startedAt;
  const others = load.pids.filter((p) => p.pid !== last && p.last > lastRestartEnd);
  const finalAnswered = (seen.get(last)?.last ?? 0) > lastRestartEnd;
  add(
    'only-newest-at-end',
    'only the newest PID answers at the end',
    others.length === 0 && finalAnswered,
    !finalAnswered ? `PID ${last} did not answer after the last restart` : others.length ? `also answering: ${others.map((p) => p.pid).join(', ')}` : `PID ${last}`,
  );

  if (result.leftoversError) add('no-leftovers', 'no leftover processes, zombies or leaked fds', false, result.leftoversError);
  const left = result.leftovers;
  if (left) {
    const extra = left.serverProcesses.filter((p) => p.pid !== last);
    const leak = left.lastServerFds !== null && left.firstServerFds !== null && left.lastServerFds > left.firstServerFds + FD_LEAK_SLACK;
    add(
      'no-leftovers',
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

/** Who sends SIGKILL to an old server that overran its drain, by strategy name. */
function killerOf(strategy: string): string {
  return strategy in STRATEGIES ? STRATEGIES[strategy as StrategyName].killer : strategy;
}

/** How each stopped old server ended: killed, cut by its drain deadline, a non-zero exit, or no word at all. */
function oldServerEnding(result: ScenarioResult): [boolean, string] {
  const stopped = result.restarts.filter((r) => r.oldPid !== null && r.events.some((e) => e.event === 'old_signalled'));
  if (result.servers === null) return [false, result.serversError ?? "the servers' log could not be read"];
  const endings = new Map(result.servers.map((s) => [s.pid, s]));
  const problems: string[] = [];
  for (const r of stopped) {
    const pid = r.oldPid!;
    const ending = endings.get(pid);
    if (r.events.some((e) => e.event === 'old_killed')) {
      problems.push(`restart ${r.index}: PID ${pid} was killed by ${killerOf(r.strategy)} (SIGKILL after the stop timeout)`);
    } else if (ending?.drainDeadline) {
      problems.push(`restart ${r.index}: PID ${pid} hit its drain deadline and cut ${ending.drainDeadline.cutConnections} connection(s) with ${ending.drainDeadline.cutRequests} request(s) in flight (exit ${ending.exitCode ?? '?'})`);
    } else if (ending?.exitCode === null || ending === undefined) {
      problems.push(`restart ${r.index}: PID ${pid} left no exit line in the servers' log`);
    } else if (ending.exitCode !== 0) {
      problems.push(`restart ${r.index}: PID ${pid} exited ${ending.exitCode}`);
    }
  }
  return problems.length ? [false, problems.join('; ')] : [true, stopped.length ? `${stopped.length} old server(s) drained and exited 0` : 'no old server was stopped'];
}

/**
 * The checks about processes for a server that is not ours. The gate does
 * not start its versions or read its exit lines, so those checks are
 * skipped, saying why. With an identity, processes are told apart by when
 * they first answered: each restart must bring one that answers, and at the
 * end only those that appeared after the last restart may answer.
 */
export function foreignChecks(result: ScenarioResult): Check[] {
  const foreign = result.options.foreign!;
  const { load, restarts } = result;
  const checks: Check[] = [];
  const add = (id: CheckId, name: string, passed: boolean, detail: string) => checks.push({ id, name, passed, detail });
  const skip = (id: CheckId, name: string, why: string) => checks.push({ id, name, passed: true, skipped: true, detail: `skipped: ${why}` });

  skip('old-server-ending', 'old servers drained and exited 0 by themselves', 'the gate reads no exit lines from your server');
  const identified = load.pids.filter((p) => p.pid !== UNKNOWN_PID);
  const noIdentity =
    foreign.identity === 'none'
      ? '--identity none'
      : identified.length === 0
        ? `no response carried ${foreign.identity}; name what tells your processes apart with --identity header:NAME or body:REGEX`
        : undefined;
  const newName = 'each restart brought a new process that answered';
  const endName = 'only processes started by the last restart answer at the end';
  if (noIdentity) {
    skip('new-pids-answered', newName, noIdentity);
    skip('only-newest-at-end', endName, noIdentity);
  } else {
    const silent = restarts.filter((r, i) => {
      if (r.exitCode !== 0) return false;
      const until = restarts[i + 1]?.triggeredAt ?? load.endedAt;
      return !identified.some((p) => p.first >= r.triggeredAt && p.first < until);
    });
    add('new-pids-answered', newName, silent.length === 0, silent.length === 0 ? `${identified.length} processes answered over the run` : silent.map((r) => `restart ${r.index}: no process answered that had not answered before it`).join('; '));
    const last = restarts.at(-1);
    if (last) {
      // The second half of the time after the last restart: a drain may take the first.
      const tail = last.finishedAt + (load.endedAt - last.finishedAt) / 2;
      const late = identified.filter((p) => p.last > tail && p.first < last.triggeredAt);
      add('only-newest-at-end', endName, late.length === 0, late.length === 0 ? `answering at the end: ${identified.filter((p) => p.last > tail).map((p) => p.pid).join(', ') || 'none'}` : `still answering at the end, from before the last restart: ${late.map((p) => p.pid).join(', ')}`);
    }
  }
  const unidentified = load.pids.find((p) => p.pid === UNKNOWN_PID)?.count ?? 0;
  if (!noIdentity && unidentified > 0) checks.at(-1)!.detail += ` (${unidentified} responses carried no ${foreign.identity})`;
  skip('old-pid-silent-after-exit', 'old PID silent after its exit', 'the gate cannot see when your processes exit');
  skip('versions', 'every PID answered with its own version', 'the gate does not start your versions');

  const leftName = 'no zombies left in the container';
  if (!foreign.seesProcesses) skip('no-leftovers', leftName, 'the gate did not start the service (--url), so it cannot tell which processes are its');
  else if (result.leftoversError) add('no-leftovers', leftName, false, result.leftoversError);
  else if (result.leftovers) {
    const left = result.leftovers;
    const atStart = left.processesAtStart ?? left.serverProcesses.length;
    // Only zombies fail it: a process count also holds a server's short-lived helpers (a sleep, a health check), so it is told, not judged.
    add('no-leftovers', leftName, left.zombies === 0, `${left.zombies} zombies; ${left.serverProcesses.length} processes in the container at the end (docker top), ${atStart} once it was ready`);
  }
  return checks;
}

/** Why the PID chart says nothing of processes (a server whose responses name none), or undefined. */
export function pidChartSkipped(checks: readonly Check[]): string | undefined {
  const check = checks.find((c) => c.id === 'new-pids-answered' && c.skipped);
  return check ? check.detail.replace(/^skipped: /, '') : undefined;
}
