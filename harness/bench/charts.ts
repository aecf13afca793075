// The benchmark charts, as SVG (vega-lite, rendered in Node like the report's).
import type { TopLevelSpec } from 'vega-lite';
import type { CostSummary } from './server-cost.js';

/** CPU per request of each server, median with its min–max, user and system apart. */
export function serverCostSpec(summary: CostSummary[]): TopLevelSpec {
  const rows = summary.flatMap((s) => [
    { server: s.name, part: 'user', median: s.keepaliveUser.median, min: s.keepaliveUser.min, max: s.keepaliveUser.max },
    { server: s.name, part: 'user + system', median: s.keepaliveCpu.median, min: s.keepaliveCpu.min, max: s.keepaliveCpu.max },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'CPU time per request, keep-alive load (median and min–max of interleaved rounds)',
    width: 560,
    height: { step: 16 },
    data: { values: rows },
    encoding: { y: { field: 'server', type: 'nominal', title: null, sort: null }, yOffset: { field: 'part' }, color: { field: 'part', type: 'nominal', title: null } },
    layer: [
      { mark: 'bar', encoding: { x: { field: 'median', type: 'quantitative', title: 'µs of CPU per request' } } },
      { mark: { type: 'rule', color: '#333' }, encoding: { x: { field: 'min', type: 'quantitative' }, x2: { field: 'max' } } },
    ],
  };
}
