// The benchmark charts, as SVG (vega-lite, rendered in Node like the report's).
import type { TopLevelSpec } from 'vega-lite';
import type { CostSummary } from './server-cost.js';
import type { HeapAfterGc, SoakSample } from './soak.js';

/** CPU per request of each server, median with its min–max, user and system apart. */
export function serverCostSpec(summary: CostSummary[]): TopLevelSpec {
  const rows = summary.flatMap((s) => [
    {
      server: s.name,
      part: 'user',
      median: s.keepaliveUser.median,
      min: s.keepaliveUser.min,
      max: s.keepaliveUser.max,
    },
    {
      server: s.name,
      part: 'user + system',
      median: s.keepaliveCpu.median,
      min: s.keepaliveCpu.min,
      max: s.keepaliveCpu.max,
    },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'CPU time per request, keep-alive load (median and min–max of interleaved rounds)',
    width: 560,
    height: { step: 16 },
    data: { values: rows },
    encoding: {
      y: { field: 'server', type: 'nominal', title: null, sort: null },
      yOffset: { field: 'part' },
      color: { field: 'part', type: 'nominal', title: null },
    },
    layer: [
      { mark: 'bar', encoding: { x: { field: 'median', type: 'quantitative', title: 'µs of CPU per request' } } },
      {
        mark: { type: 'rule', color: '#333' },
        encoding: { x: { field: 'min', type: 'quantitative' }, x2: { field: 'max' } },
      },
    ],
  };
}

/** The soak's samples against restarts done: one panel per thing that would leak, each on its own scale. */
export function soakSpec(samples: SoakSample[], heapAfterGc: HeapAfterGc[]): TopLevelSpec {
  const panel = (values: object[], field: string, title: string) => ({
    width: 560,
    height: 80,
    data: { values },
    mark: { type: 'line' as const, interpolate: 'step-after' as const, strokeWidth: 1 },
    encoding: {
      x: { field: 'restarts', type: 'quantitative' as const, title: 'restarts done' },
      y: { field, type: 'quantitative' as const, title, scale: { zero: true } },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Soak: ${samples.at(-1)?.restarts ?? 0} restarts under load`,
    vconcat: [
      ...(samples.every((s) => s.serverFds !== null) ? [panel(samples, 'serverFds', 'open fds, servers')] : []),
      panel(samples, 'containerProcesses', 'container processes'),
      panel(samples, 'harnessRssMiB', 'harness RSS, MiB'),
      ...(heapAfterGc.length ? [panel(heapAfterGc, 'heapMiB', 'harness heap after full GC, MiB')] : []),
    ],
  };
}
