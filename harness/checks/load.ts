// The checks on what the load saw: it ran, nothing failed, nothing was slow,
// no switchover stalled, and every request written is accounted for. They
// need nothing from the runtime but the load itself.
import { evidenceText, restartAt, restartsWhere } from '../evidence.js';
import { MODE_NAMES, type LoadMode } from '../load/modes.js';
import { grpcStatusName } from '../load/h2-ledger.js';
import { type Bucket, bucketIndex, causesText, type LatencySummary } from '../load/recorder.js';
import type { ScheduleRecord } from '../load/arrivals.js';
import { isIdempotent } from '../load/request-mix.js';
import type { Ending, StreamKind } from '../load/stream-lane.js';
import type { RunRecord } from '../result/document.js';
import { countedApart, endedGracefully, type Ledger, lanesOf, lanesOfKind, streamFigures } from '../result/lanes.js';
import { warmupWindow } from '../strategies/timeline.js';
import type { CheckDefinition, Judgement } from './check.js';
import { plainMs as ms } from '../format.js';

/** Each load mode must answer at least this many requests, or the load did not run. */
export const MIN_ANSWERED_PER_MODE = 100;

/**
 * Stalls are judged over this much time (whole buckets, at least one): a
 * single 250 ms bucket dips to 8% of the warm-up rate in normal restarts on
 * 2 cores (the burst of reconnects after SIGTERM), then the backlog catches
 * up; over 500 ms normal runs stayed above 43%, while a 1 s stall holds every
 * 500 ms inside it near 0. See docs/how-it-works.md, "Latency and stalls".
 */
export const STALL_WINDOW_MS = 500;

export const latencyText = (l: LatencySummary | null) => (l ? `p99 ${ms(l.p99)}, max ${ms(l.max)}` : 'no responses');

/** WebSocket close codes a server restart may give, by name (RFC 6455 7.4.1, IANA registry). */
const CLOSE_CODES: Record<number, string> = {
  1000: 'Normal Closure',
  1001: 'Going Away',
  1011: 'Internal Error',
  1012: 'Service Restart',
  1013: 'Try Again Later',
};

/** What a stream's graceful end is called, by kind. */
const GRACEFUL_END: Record<StreamKind, string> = {
  sse: 'end',
  ws: 'close',
  grpc: 'status (OK, or UNAVAILABLE: call again elsewhere)',
};

/** How a stream ended, in words (load/stream-lane.ts). */
export function endingText(kind: StreamKind, ending: Ending): string {
  switch (ending.how) {
    case 'end':
      return 'end of stream';
    case 'close':
      return `close ${ending.code}${CLOSE_CODES[ending.code!] ? ` ${CLOSE_CODES[ending.code!]}` : ''}`;
    case 'status':
      return `status ${grpcStatusName(ending.code ?? 0)}`;
    case 'cut':
      return kind === 'ws' ? 'EOF without a close frame' : 'EOF mid-stream';
    case 'reset':
      return 'reset';
    case 'refused':
      return 'refused';
    case 'error':
      return kind === 'grpc' && ending.code !== undefined
        ? `failed to open (${grpcStatusName(ending.code)})`
        : 'failed to open';
  }
}

/** One load mode's figures, with the run's clock (every mode shares it). */
export function modeLoad(run: RunRecord, mode: LoadMode) {
  const m = run.modes.find((x) => x.mode === mode)!;
  return { ...m, bucketMs: run.bucketMs, startedAt: run.startedAt, endedAt: run.endedAt };
}

/** Whether the run was driven on a schedule (the open model). */
const schedulesOfRun = (run: RunRecord) => run.modes.some((m) => m.schedule !== null);

type Load = { buckets: readonly Bucket[]; bucketMs: number; startedAt: number; endedAt: number };

/** The median of the answered counts of the warm-up's whole buckets (timeline.ts, warmupWindow). */
function warmupMedian(run: RunRecord, load: Load): number {
  const { from, to } = warmupWindow(load.startedAt, load.bucketMs, run.restarts, load.endedAt);
  const counts = load.buckets
    .filter((b) => b.start >= from && b.start + load.bucketMs <= to)
    .map((b) => b.answered)
    .sort((a, b) => a - b);
  return counts.length ? counts[Math.floor(counts.length / 2)]! : NaN;
}

export interface Stall {
  restart: number;
  /** Start of the stalled stretch, ms since the epoch. */
  at: number;
  /** Closed model: answered in the stretch; open model: of the requests due in it, those answered within the budget. */
  answered: number;
  /** Closed model: what the warm-up answered in as long; open model: the requests due in the stretch. */
  expected: number;
  basis: 'warm-up' | 'due';
}

/**
 * The open model's stalls: stretches of STALL_WINDOW_MS overlapping a
 * switchover in which fewer than `stallFloor` of the requests due were
 * answered within the latency budget. The schedule counts answers by when
 * their requests fell due; the exact tail says which of them were slower
 * than the budget.
 */
function dueStalls(run: RunRecord, mode: LoadMode, schedule: ScheduleRecord): Stall[] {
  const load = modeLoad(run, mode);
  const budget = run.parameters.latencyBudgetMs;
  const slowByDue = new Map<number, number>();
  for (const [answeredAt, latencyMs] of load.latencyTail?.responses ?? []) {
    if (latencyMs <= budget) continue;
    const index = bucketIndex(answeredAt - latencyMs, run.startedAt, run.bucketMs);
    slowByDue.set(index, (slowByDue.get(index) ?? 0) + 1);
  }
  const span = Math.max(1, Math.round(STALL_WINDOW_MS / run.bucketMs));
  const found: Stall[] = [];
  for (const window of run.switchovers) {
    for (let i = 0; i + span <= schedule.buckets.length; i++) {
      const start = run.startedAt + i * run.bucketMs;
      const end = start + span * run.bucketMs;
      if (end <= window.from || start >= window.to || end > run.endedAt) continue;
      let due = 0;
      let inTime = 0;
      for (let j = i; j < i + span; j++) {
        due += schedule.buckets[j]!.due;
        inTime += schedule.buckets[j]!.answered - (slowByDue.get(j) ?? 0);
      }
      // A slow answer's due time is worked back from its latency, rounded to a µs: one on a bucket's edge may be counted in its neighbour.
      inTime = Math.max(0, inTime);
      if (due > 0 && inTime < run.parameters.stallFloor * due)
        found.push({ restart: window.index, at: start, answered: inTime, expected: due, basis: 'due' });
    }
  }
  return found;
}

/**
 * Stretches of STALL_WINDOW_MS overlapping a switchover window that answered
 * fewer than `stallFloor` times what the warm-up's median bucket answers in
 * as long. The warm-up's first bucket (ramp-up) and a last bucket cut short
 * by the end of the load are left out. A string when there is nothing to
 * compare with.
 */
export function stalls(run: RunRecord, mode: LoadMode): Stall[] | string {
  const load = modeLoad(run, mode);
  if (load.schedule) return dueStalls(run, mode, load.schedule);
  const median = warmupMedian(run, load);
  if (!(median > 0)) return `no warm-up to compare with (${MODE_NAMES[mode]} answered nothing before restart #1)`;
  const span = Math.max(1, Math.round(STALL_WINDOW_MS / load.bucketMs));
  const expected = median * span;
  const found: Stall[] = [];
  for (const window of run.switchovers) {
    for (let i = 0; i + span <= load.buckets.length; i++) {
      const start = load.buckets[i]!.start;
      const end = start + span * load.bucketMs;
      if (end <= window.from || start >= window.to || end > load.endedAt) continue;
      const answered = load.buckets.slice(i, i + span).reduce((sum, b) => sum + b.answered, 0);
      if (answered < run.parameters.stallFloor * expected)
        found.push({ restart: window.index, at: start, answered, expected, basis: 'warm-up' });
    }
  }
  return found;
}

/** What the other load modes answered in the same stretch: a server that answered them was not stalled itself. */
function othersMeanwhile(run: RunRecord, stalled: LoadMode, at: number): string {
  return run.modes
    .filter((m) => m.mode !== stalled)
    .map(({ mode }) => {
      const load = modeLoad(run, mode);
      const answered = load.buckets
        .filter((b) => b.start >= at && b.start < at + STALL_WINDOW_MS)
        .reduce((sum, b) => sum + b.answered, 0);
      const warm = warmupMedian(run, load) * Math.max(1, Math.round(STALL_WINDOW_MS / load.bucketMs));
      return ` (${MODE_NAMES[mode]} answered ${answered} meanwhile, against ${warm} in the warm-up)`;
    })
    .join('');
}

/** A failure names what else the switchovers it fell in saw (evidence.ts); '' when it fell in none. */
function seenWith(run: RunRecord, holds: (bucket: Bucket) => boolean): string {
  const text = evidenceText(run, restartsWhere(run, run, holds));
  return text ? `. ${text}` : '';
}

export const LOAD_CHECKS: CheckDefinition[] = [
  {
    id: 'load-ran',
    name: 'the load ran',
    needs: [],
    judge: (run) => {
      const modes = lanesOfKind(run, 'mode');
      const thin = modes.filter((lane) => lane.ledger.answered < MIN_ANSWERED_PER_MODE);
      return [
        {
          passed: thin.length === 0,
          detail:
            thin.length === 0
              ? modes.map((lane) => `${lane.label}: ${lane.ledger.answered} answered`).join('; ')
              : `the load did not run: ${thin.map((lane) => `${lane.label} answered only ${lane.ledger.answered} requests (at least ${MIN_ANSWERED_PER_MODE} needed)`).join('; ')}`,
        },
      ];
    },
  },
  {
    id: 'zero-failed-requests',
    name: 'zero failed requests',
    needs: [],
    judge: (run) => {
      const causes = causesText(run.failuresByCause);
      return [
        {
          passed: run.failed === 0,
          detail:
            run.failed === 0
              ? `${run.answered} answered, none failed`
              : `${run.failed} of ${run.answered + run.failed} failed (${causes})${seenWith(run, (b) => Object.keys(b.failures).length > 0)}`,
        },
      ];
    },
  },
  {
    id: 'latency-budget',
    name: (run) => `every response within ${ms(run.parameters.latencyBudgetMs)}`,
    needs: [],
    judge: (run) => {
      const slow = run.failuresByCause.slow ?? 0;
      const worst = run.switchovers.reduce<(typeof run.switchovers)[number] | undefined>(
        (a, b) => ((b.stats.latency?.p99 ?? 0) > (a?.stats.latency?.p99 ?? -1) ? b : a),
        undefined,
      );
      const against = `steady ${latencyText(run.steady.latency)}`;
      return [
        {
          passed: slow === 0,
          detail:
            (slow === 0 ? 'none slower' : `${slow} responses slower than the budget`) +
            (worst
              ? `; slowest switchover: restart #${worst.index}, ${latencyText(worst.stats.latency)} (${against})`
              : `; ${against}`) +
            (slow === 0 ? '' : seenWith(run, (b) => (b.failures.slow ?? 0) > 0)),
        },
      ];
    },
  },
  {
    id: 'no-stall',
    name: (run) =>
      schedulesOfRun(run)
        ? `no stall during a switchover (no ${STALL_WINDOW_MS} ms in which under ${Math.round(run.parameters.stallFloor * 100)}% of the requests due were answered within ${ms(run.parameters.latencyBudgetMs)})`
        : `no stall during a switchover (no ${STALL_WINDOW_MS} ms below ${Math.round(run.parameters.stallFloor * 100)}% of the warm-up rate)`,
    needs: [],
    judge: (run) => {
      const modes = lanesOfKind(run, 'mode').map((lane) => lane.mode);
      const lines: string[] = [];
      for (const mode of modes) {
        const found = stalls(run, mode);
        if (typeof found === 'string') lines.push(found);
        else if (found.length) {
          const first = found[0]!;
          const from = `${((first.at - run.startedAt) / 1000).toFixed(2)} s`;
          const what =
            first.basis === 'due'
              ? `restart #${first.restart}: of ${first.expected} requests due in ${STALL_WINDOW_MS} ms from ${from}, ${first.answered} were answered within ${ms(run.parameters.latencyBudgetMs)}`
              : `restart #${first.restart} answered ${first.answered} in ${STALL_WINDOW_MS} ms from ${from}, against ${first.expected} in the warm-up`;
          lines.push(
            `${MODE_NAMES[mode]}: ${what}${found.length > 1 ? ` (${found.length} stalled stretches)` : ''}` +
              othersMeanwhile(run, mode, first.at) +
              `. ${evidenceText(run, [...new Set(found.map((f) => f.restart))])}`,
          );
        }
      }
      return [
        {
          passed: lines.length === 0,
          detail:
            lines.length === 0
              ? `every switchover above the floor in ${modes.map((m) => MODE_NAMES[m]).join(' and ')} load`
              : lines.join('; '),
        },
      ];
    },
  },
  {
    id: 'long-lane',
    name: 'no long request cut at a restart',
    needs: [],
    // A lane only where the run had one (--long, or a fault that brings it).
    judge: (run) =>
      lanesOfKind(run, 'long').map(({ record: lane }) => {
        const name = `no long request cut at a restart (${lane.connections} × ${lane.path})`;
        const latency = lane.latency ? `, p50 ${ms(lane.latency.p50)}, max ${ms(lane.latency.max)}` : '';
        if (lane.failed === 0) {
          const passed = lane.answered > 0;
          return {
            name,
            passed,
            detail: passed
              ? `${lane.answered} long requests answered, none cut${latency}`
              : `no long request was answered: the lane did not run (${lane.inFlightAtStop} in flight at stop)`,
          };
        }
        const causes = causesText(lane.failuresByCause);
        const cutAt = restartsWhere(
          run,
          { buckets: lane.buckets, bucketMs: run.bucketMs },
          (b) => (b.failures.cut_in_flight ?? 0) > 0,
        );
        const where = cutAt.length ? `; cut at restart ${cutAt.map((i) => `#${i}`).join(', ')}` : '';
        return {
          name,
          passed: false,
          detail: `${lane.failed} of ${lane.written} long requests failed (${causes})${where}; ${lane.answered} answered${latency}${cutAt.length ? `. ${evidenceText(run, cutAt)}` : ''}`,
        };
      }),
  },
  {
    id: 'request-mix',
    name: 'every kind of request answered, none failed',
    needs: [],
    // One judgement per kind of a mix (--request, requests), so that every view lists the kind that failed;
    // the totals are judged by zero-failed-requests.
    judge: (run) =>
      lanesOfKind(run, 'request').map(({ record: k }) => {
        const causes = k.failed ? ` (${causesText(k.failuresByCause)})` : '';
        const figures = `${k.answered} answered, ${k.failed} failed${causes}${k.latency ? `, p99 ${ms(k.latency.p99)}` : ''}`;
        const problem =
          k.answered === 0
            ? `${k.name} was never answered`
            : k.failed === 0
              ? null
              : // A lost GET can be sent again; a lost POST leaves its client not knowing whether it was applied.
                isIdempotent(k.method)
                ? `${k.failed} ${k.name} failed`
                : `${k.failed} ${k.name} failed, and ${k.method} is not idempotent: a client cannot tell whether it was applied, nor safely send it again`;
        return {
          name: `every ${k.name} answered, none failed (weight ${k.weight})`,
          passed: problem === null,
          detail: problem ? `${problem}. ${figures}` : figures,
        };
      }),
  },
  {
    id: 'streams',
    name: 'every stream ended gracefully, no message lost',
    needs: [],
    // A stream lane only where the run had one (--stream).
    judge: (run) => lanesOfKind(run, 'stream').map(({ record: stream }) => judgeStreams(run, stream)),
  },
  {
    id: 'accounting',
    name: 'every request accounted for',
    needs: [],
    judge: (run) => {
      // In the open model a request counts from when it fell due, sent or still waiting for a connection.
      const counted = schedulesOfRun(run) ? 'due' : 'written';
      const ledger = (name: string, l: Ledger, as = counted) => ({
        ok: l.written === l.answered + l.failed + l.inFlightAtStop,
        text: `${name}: ${l.written} ${as} = ${l.answered} answered + ${l.failed} failed + ${l.inFlightAtStop} in flight at stop`,
      });
      const ledgers = [
        // The long lane writes each request when it sends it, whatever the model.
        ...lanesOf(run)
          .filter(countedApart)
          .map((lane) =>
            lane.kind === 'long' ? ledger('long lane', lane.ledger, 'written') : ledger(lane.label, lane.ledger),
          ),
        ledger('all', run),
      ];
      return [
        {
          passed: ledgers.every((l) => l.ok),
          detail: ledgers.map((l) => (l.ok ? l.text : `MISMATCH ${l.text}`)).join('; '),
        },
      ];
    },
  },
];

/** The stream lane: every stream ended as a server means to end one, was back within the budget, lost nothing. */
function judgeStreams(run: RunRecord, stream: NonNullable<RunRecord['stream']>): Judgement {
  const budget = run.parameters.latencyBudgetMs;
  const said = (b: Ending) => endingText(stream.kind, b);
  const byHow = new Map<string, number>();
  for (const b of stream.breaks) byHow.set(said(b), (byHow.get(said(b)) ?? 0) + 1);
  const hows = [...byHow].map(([how, n]) => `${n} ${how}`);
  const back = stream.breaks.flatMap((b) => (b.backAfterMs === null ? [] : [b.backAfterMs])).sort((a, b) => a - b);
  const { lost, duplicated } = streamFigures(stream);
  const late = stream.breaks.filter((b) => b.backAfterMs === null || b.backAfterMs > budget);
  const summary =
    `${stream.events} ${stream.kind === 'sse' ? 'events' : 'messages'}; ${stream.breaks.length ? `${stream.breaks.length} ended (${hows.join(', ')})` : 'none ended'}` +
    (back.length ? `, back after p50 ${ms(back[Math.floor(back.length / 2)]!)}, max ${ms(back.at(-1)!)}` : '') +
    `; ${lost} lost, ${duplicated} seen twice` +
    (stream.unnumbered ? ` (${stream.unnumbered} without a number: loss not judged for them)` : '');
  // A stream seen to end after a switchover's window (a client under load reads an EOF late) is named after that
  // restart.
  const when = (b: (typeof stream.breaks)[number]) => {
    const during = restartAt(run, b.at);
    const after = during ? undefined : run.switchovers.filter((w) => w.from <= b.at).at(-1)?.index;
    return `at ${((b.at - run.startedAt) / 1000).toFixed(2)} s${during ? ` in restart #${during}` : after ? ` after restart #${after}` : ''}`;
  };
  const ended = (b: (typeof stream.breaks)[number]) => `a stream that ended (${said(b)}) ${when(b)}`;
  const problems = [
    ...(stream.events === 0 ? ['nothing was received: the stream lane did not run'] : []),
    ...stream.breaks
      .filter((b) => !endedGracefully(stream.kind, b))
      .map((b) => `a stream ended without a graceful ${GRACEFUL_END[stream.kind]} (${said(b)}) ${when(b)}`),
    ...late.map(
      (b) =>
        `${ended(b)} ${b.backAfterMs === null ? 'was not back by the end' : `was back only after ${ms(b.backAfterMs)}`}`,
    ),
    ...stream.breaks
      .filter((b) => b.lost || b.duplicated)
      .map(
        (b) =>
          `${ended(b)} came back with ${[b.lost ? `${b.lost} ids lost` : '', b.duplicated ? `${b.duplicated} ids again` : ''].filter(Boolean).join(' and ')}`,
      ),
  ];
  return {
    name: `every stream ended gracefully and was back within ${ms(budget)}, no message lost (${stream.connections} × ${stream.kind}:${stream.path})`,
    passed: problems.length === 0 && lost === 0 && duplicated === 0,
    detail: problems.length ? `${problems.join('; ')}. ${summary}` : summary,
  };
}
