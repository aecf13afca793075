// The report's charts: vega-lite specs built from result.json, rendered to
// SVG in Node (no browser, no canvas), all on one time axis.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { HARNESS_STALL_MS } from '../evidence.js';
import { withoutResponse } from '../load/recorder.js';
import type { ResultDocument } from '../result/document.js';

export const CHART_WIDTH = 860;
const FAILED = 'failed';
export const PID_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
const EVENT_LABELS: Record<string, string> = {
  new_started: 'new started',
  new_ready: 'new ready',
  old_signalled: 'old signalled',
  old_exited: 'old exited',
  old_killed: 'old killed',
  rolled_back: 'rolled back',
};
/** A fleet's task events (result.json `fleet`), drawn like a restart's. */
const TASK_LABELS = {
  runningAt: 'task running',
  stoppingAt: 'task out of DNS',
  signalledAt: 'task signalled',
  endedAt: 'task ended',
} as const;
/**
 * The events' colours, in the order of EVENT_LABELS then TASK_LABELS: each
 * its own, and none a PID's or the failures' red, so a dashed rule is never
 * read as a process or a loss.
 */
export const EVENT_COLOURS = [
  '#aaaaaa',
  '#000000',
  '#666666',
  '#393b79',
  '#843c39',
  '#7b4173',
  '#637939',
  '#8c6d31',
  '#5254a3',
  '#a55194',
];
/** What a failure is drawn in. */
export const FAILED_COLOUR = '#d62728';

type Row = Record<string, string | number>;

/** Seconds since the load started, the x axis of every chart. */
function timeAxis(doc: ResultDocument) {
  const seconds = (doc.endedAt - doc.startedAt) / 1000;
  return { domain: [0, Math.max(seconds, doc.bucketMs / 1000)] };
}

function eventRows(doc: ResultDocument): Row[] {
  const restartEvents = doc.restarts.flatMap((r) =>
    r.events
      .filter((e) => e.event in EVENT_LABELS)
      .map((e) => ({
        t: (e.ts - doc.startedAt) / 1000,
        event: EVENT_LABELS[e.event]!,
        label: `#${r.index} ${EVENT_LABELS[e.event]} ${e.pid ?? ''}`.trim(),
      })),
  );
  const inRun = (at: number | null): at is number => at !== null && at >= doc.startedAt && at <= doc.endedAt;
  const taskEvents = (doc.fleet?.tasks ?? []).flatMap((task) =>
    Object.entries(TASK_LABELS)
      .filter(([field]) => inRun(task[field as keyof typeof TASK_LABELS]))
      .map(([field, event]) => ({
        t: (task[field as keyof typeof TASK_LABELS]! - doc.startedAt) / 1000,
        event,
        label: `slot ${task.slot ?? '?'} ${task.container ?? task.id.slice(0, 12)}: ${event}`,
      })),
  );
  return [...restartEvents, ...taskEvents];
}

/** How a chart names who answered: the PID, or the replica's name and its task's slot. */
export function identityLabel(doc: ResultDocument, pid: string): string {
  const name = doc.identityNames?.[pid];
  if (!name) return pid;
  const task = doc.fleet?.tasks.find((t) => t.container !== null && name.startsWith(t.container));
  return task ? `${name} (slot ${task.slot ?? '?'})` : name;
}

/** A chart with the restart events drawn over it as vertical rules. */
/** `title` as lines: Vega widens the whole SVG to a title's one line, and a page shows every chart at one width. */
function withEvents(doc: ResultDocument, title: string | string[], layer: object[], height = 180): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, anchor: 'start', fontSize: 14 },
    width: CHART_WIDTH,
    height,
    layer: [
      ...layer,
      {
        data: { values: eventRows(doc) },
        mark: { type: 'rule', strokeWidth: 1.5, strokeDash: [4, 3] },
        encoding: {
          x: { field: 't', type: 'quantitative', scale: timeAxis(doc) },
          color: {
            field: 'event',
            type: 'nominal',
            title: doc.fleet ? 'event' : 'restart event',
            // Task events only in a fleet's report: a legend lists its whole domain.
            scale: doc.fleet
              ? { domain: [...Object.values(EVENT_LABELS), ...Object.values(TASK_LABELS)], range: EVENT_COLOURS }
              : {
                  domain: Object.values(EVENT_LABELS),
                  range: EVENT_COLOURS.slice(0, Object.keys(EVENT_LABELS).length),
                },
          },
          tooltip: [{ field: 'label' }],
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
    config: { font: 'sans-serif', view: { stroke: '#ddd' } },
  } as TopLevelSpec;
}

const xBucket = (doc: ResultDocument) => ({
  x: { field: 't0', type: 'quantitative', title: 'seconds since the load started', scale: timeAxis(doc) },
  x2: { field: 't1' },
});

/** Share of responses per PID (per replica, in a fleet) over time, failures in red on top. */
export function pidShareSpec(doc: ResultDocument): TopLevelSpec {
  const pids = doc.pids.map((p) => String(p.pid));
  const who = (pid: string) => identityLabel(doc, pid);
  const named = doc.identityNames ? 'replica' : 'PID';
  const rows: Row[] = [];
  for (const bucket of doc.buckets) {
    const t0 = (bucket.start - doc.startedAt) / 1000;
    const t1 = t0 + doc.bucketMs / 1000;
    const failed = withoutResponse(bucket.failures);
    const total = Object.values(bucket.pids).reduce((a, b) => a + b, 0) + failed;
    if (total === 0) continue;
    // Stacked here rather than by vega-lite: each rectangle gets its own y and y2.
    let y = 0;
    const slices: [string, number][] = [
      ...pids.map((pid): [string, number] => [who(pid), bucket.pids[pid] ?? 0]),
      [FAILED, failed],
    ];
    for (const [who, count] of slices) {
      if (!count) continue;
      rows.push({ t0, t1, who, count, y0: y, y1: y + count / total });
      y += count / total;
    }
  }
  return withEvents(
    doc,
    `Share of responses per ${named}`,
    [
      {
        data: { values: rows },
        mark: { type: 'rect' },
        encoding: {
          ...xBucket(doc),
          y: {
            field: 'y0',
            type: 'quantitative',
            title: 'share of responses',
            axis: { format: '%' },
            scale: { domain: [0, 1] },
          },
          y2: { field: 'y1' },
          color: {
            field: 'who',
            type: 'nominal',
            title: named,
            scale: {
              domain: [...pids.map(who), FAILED],
              range: [...pids.map((_, i) => PID_COLOURS[i % PID_COLOURS.length]!), FAILED_COLOUR],
            },
          },
          tooltip: [{ field: 'who', title: named }, { field: 'count' }, { field: 't0', title: 'from s' }],
        },
      },
    ],
    220,
  );
}

/** Requests settled per second (answered + failed), over the part of each bucket the load ran: the last one ends with it. */
export function rateSpec(doc: ResultDocument): TopLevelSpec {
  const rows = doc.buckets.map((b) => {
    const settled = Object.values(b.pids).reduce((a, c) => a + c, 0) + withoutResponse(b.failures);
    const covered = Math.min(doc.bucketMs, doc.endedAt - b.start);
    return {
      t: (b.start - doc.startedAt) / 1000 + doc.bucketMs / 2000,
      rps: covered > 0 ? (settled * 1000) / covered : 0,
    };
  });
  return withEvents(doc, 'Request rate', [
    {
      data: { values: rows },
      mark: { type: 'line', interpolate: 'step-after', color: '#1f77b4' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds since the load started', scale: timeAxis(doc) },
        y: { field: 'rps', type: 'quantitative', title: 'requests per second' },
      },
    },
  ]);
}

/** p50, p99 and max latency of every response per bucket, with the latency budget. */
export function latencySpec(doc: ResultDocument): TopLevelSpec {
  const rows = doc.buckets.flatMap((b) =>
    b.latency
      ? (['p50', 'p99', 'max'] as const).map((stat) => ({
          t: (b.start - doc.startedAt) / 1000 + doc.bucketMs / 2000,
          stat,
          ms: b.latency![stat],
        }))
      : [],
  );
  const budget = {
    data: { values: [{ ms: doc.parameters.latencyBudgetMs }] },
    mark: { type: 'rule', color: '#d62728', strokeDash: [2, 2] },
    encoding: { y: { field: 'ms', type: 'quantitative' } },
  };
  return withEvents(doc, `Latency of every response (dashed: the ${doc.parameters.latencyBudgetMs} ms budget)`, [
    budget,
    {
      data: { values: rows },
      mark: { type: 'line', point: false },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds since the load started', scale: timeAxis(doc) },
        y: { field: 'ms', type: 'quantitative', title: 'ms (symlog scale)', scale: { type: 'symlog' } },
        color: {
          field: 'stat',
          type: 'nominal',
          title: 'latency',
          scale: { domain: ['p50', 'p99', 'max'], range: ['#2ca02c', '#ff7f0e', '#d62728'] },
        },
      },
    },
  ]);
}

/**
 * The harness's own health beside the latency: its longest event-loop delay
 * per bucket (a late harness times its own delay into every response), and
 * the machine's stolen CPU share where /proc/stat says.
 */
export function harnessSpec(doc: ResultDocument): TopLevelSpec {
  const t = (start: number) => (start - doc.startedAt) / 1000 + doc.bucketMs / 2000;
  const delay = doc.harness.map((b) => ({ t: t(b.start), ms: b.loopDelayMaxMs }));
  const steal = doc.harness.filter((b) => b.steal !== null).map((b) => ({ t: t(b.start), share: b.steal }));
  const x = { field: 't', type: 'quantitative', title: 'seconds since the load started', scale: timeAxis(doc) };
  const spec = withEvents(
    doc,
    [
      'The harness itself: its event-loop delay per bucket, and CPU stolen from the machine',
      `(red dashed: ${HARNESS_STALL_MS} ms, above which what it timed holds its own delay)`,
    ],
    [
      {
        data: { values: [{ ms: HARNESS_STALL_MS }] },
        mark: { type: 'rule', color: '#d62728', strokeDash: [2, 2] },
        encoding: {
          y: {
            field: 'ms',
            type: 'quantitative',
            scale: { domain: [0, Math.max(HARNESS_STALL_MS * 2, ...delay.map((d) => d.ms))] },
            axis: null,
          },
        },
      },
      {
        data: { values: delay },
        mark: { type: 'line', interpolate: 'step-after', color: '#6a3d9a' },
        encoding: {
          x,
          y: {
            field: 'ms',
            type: 'quantitative',
            title: 'event-loop delay, max (ms)',
            scale: { domain: [0, Math.max(HARNESS_STALL_MS * 2, ...delay.map((d) => d.ms))] },
          },
        },
      },
      {
        data: { values: steal },
        mark: { type: 'line', interpolate: 'step-after', color: '#b15928', strokeDash: [6, 2] },
        encoding: {
          x,
          y: {
            field: 'share',
            type: 'quantitative',
            title: 'CPU stolen (dashed)',
            axis: { format: '%', orient: 'right' },
            scale: { domain: [0, 1] },
          },
        },
      },
    ],
    120,
  );
  return { ...spec, resolve: { scale: { color: 'independent', y: 'independent' } } } as TopLevelSpec;
}

/** Failed requests per bucket, by cause. */
export function failuresSpec(doc: ResultDocument): TopLevelSpec {
  const rows: Row[] = [];
  for (const b of doc.buckets) {
    const t0 = (b.start - doc.startedAt) / 1000;
    let y = 0;
    for (const [cause, count] of Object.entries(b.failures)) {
      rows.push({ t0, t1: t0 + doc.bucketMs / 1000, cause, count: count ?? 0, y0: y, y1: y + (count ?? 0) });
      y += count ?? 0;
    }
  }
  return withEvents(
    doc,
    rows.length ? 'Failed requests by cause' : 'Failed requests by cause: none',
    [
      {
        data: { values: rows },
        mark: { type: 'rect' },
        encoding: {
          ...xBucket(doc),
          y: {
            field: 'y0',
            type: 'quantitative',
            title: 'failed requests',
            ...(rows.length ? {} : { scale: { domain: [0, 1] } }),
          },
          y2: { field: 'y1' },
          color: { field: 'cause', type: 'nominal', title: 'cause', scale: { scheme: 'reds' } },
          tooltip: [{ field: 'cause' }, { field: 'count' }],
        },
      },
    ],
    140,
  );
}

/** Renders a vega-lite spec to an SVG string, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
