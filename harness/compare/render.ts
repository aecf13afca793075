// compare.md and compare.html: the table of `npm run compare`, and each
// strategy's charts side by side.
import { causesText, type LatencySummary } from '../load/recorder.js';
import { describeDesign, type DesignName } from './designs.js';
import { latencySpec, pidShareSpec, renderSvg } from '../view/charts.js';
import type { ResultDocument } from '../result/document.js';
import { MODE_NAMES } from '../load/modes.js';
import type { CompareRow, OperationsRow, Spread } from './rows.js';
import { outcomeOf } from '../verdict.js';
import { count, ms } from '../format.js';

/** What the comparison ran with, for the top of each page. */
export interface CompareFacts {
  command: string;
  restarts: number;
  intervalSeconds: number;
  load: string;
  runtime: string;
  machine: string;
  startedAt: string;
  durationSeconds: number;
}

const latency = (l: LatencySummary | null) => (l ? `${ms(l.p99)} / ${ms(l.max)}` : '–');
const spreadText = (s: Spread | null) =>
  s ? (s.n > 1 ? `${ms(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})` : ms(s.median)) : '–';
const failedText = (row: CompareRow) => {
  const causes = causesText(row.failuresByCause);
  return row.failed === 0 ? '0' : `${count(row.failed)} (${causes})`;
};
const gateText = (row: CompareRow) =>
  row.passed
    ? 'passed'
    : row.inconclusive
      ? 'inconclusive: the load generator fell behind'
      : `failed: ${row.failedChecks.join(', ')}`;

export const RESULT_HEADERS = [
  'strategy',
  'load',
  'failed requests',
  'switchover p99 / longest wait',
  'steady p99 / max',
  'switchover time, median (min–max)',
  'gate',
];

export function resultCells(row: CompareRow): string[] {
  return [
    row.strategy,
    MODE_NAMES[row.mode],
    failedText(row),
    latency(row.switchover),
    latency(row.steady),
    spreadText(row.switchoverTimeMs),
    gateText(row),
  ];
}

export const OPERATIONS_HEADERS = [
  'strategy',
  'SIGKILL after an overrun drain',
  'needs',
  'logs',
  'after a reboot',
  'deployment: files (non-blank lines)',
];

export function operationsCells(row: OperationsRow): string[] {
  return [row.strategy, row.killer, row.needs, row.logs, row.reboot, `${row.files} (${row.lines})`];
}

function markdownTable(headers: string[], rows: string[][]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function factsLine(facts: CompareFacts): string {
  return `${facts.restarts} restarts per strategy, one every ${facts.intervalSeconds} s, under ${facts.load}; ${facts.runtime}. ${facts.machine}. Started ${facts.startedAt}, took ${Math.round(facts.durationSeconds)} s.`;
}

export function compareMarkdown(rows: CompareRow[], operations: OperationsRow[], facts: CompareFacts): string {
  return [
    '# Restart strategies compared',
    '',
    factsLine(facts),
    '',
    `Reproduce: \`${facts.command}\``,
    '',
    '## Under load',
    '',
    markdownTable(RESULT_HEADERS, rows.map(resultCells)),
    '',
    "Switchover: from a restart's trigger until the old server is gone (or, when the old one is stopped first, until the new one is ready). The longest wait is the slowest response in any switchover; switchover time is trigger → only the new process answers, over the restarts.",
    '',
    '## Day to day',
    '',
    markdownTable(OPERATIONS_HEADERS, operations.map(operationsCells)),
    '',
    'Logs and deployment files are what this run used; "after a reboot" is what the units and scripts set up, not exercised by this run.',
    '',
  ].join('\n');
}

const escape = (text: unknown) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function htmlTable(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`)
    .join('\n')}</tbody></table>`;
}

export async function compareHtml(
  rows: CompareRow[],
  operations: OperationsRow[],
  facts: CompareFacts,
  runs: { strategy: DesignName; doc: ResultDocument }[],
): Promise<string> {
  const charts = await Promise.all(
    runs.map(async ({ strategy, doc }) => {
      const [share, lat] = await Promise.all([renderSvg(pidShareSpec(doc)), renderSvg(latencySpec(doc))]);
      return `<section><h3>${escape(strategy)}: ${outcomeOf(doc)}, ${count(doc.failedRequests)} of ${count(doc.totalRequests)} failed</h3><p>${escape(describeDesign(strategy).summary)}</p>${share}${lat}</section>`;
    }),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>reuseport-lab: restart strategies compared</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1800px; color: #222; padding: 0 16px; }
  h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #eee; } h3 { font-size: 15px; margin: 6px 0; }
  table { border-collapse: collapse; margin: 8px 0; } th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eee; vertical-align: top; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 18px; }
  .grid svg { width: 100%; height: auto; }
</style>
</head>
<body>
<h1>Restart strategies compared</h1>
<p>${escape(factsLine(facts))}</p>
<p>Reproduce: <code>${escape(facts.command)}</code></p>
<h2>Under load</h2>
${htmlTable(RESULT_HEADERS, rows.map(resultCells))}
<h2>Day to day</h2>
${htmlTable(OPERATIONS_HEADERS, operations.map(operationsCells))}
<h2>Which process answered, and how long clients waited</h2>
<div class="grid">
${charts.join('\n')}
</div>
</body>
</html>
`;
}
