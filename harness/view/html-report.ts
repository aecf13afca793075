// report.html: one self-contained page (inline SVG and CSS, nothing fetched)
// that a person can open offline or attach to a pull request.
import { harnessText, kernelText, listenerText } from '../evidence.js';
import { failuresSpec, harnessSpec, identityLabel, latencySpec, pidShareSpec, rateSpec, renderSvg } from './charts.js';
import { FLEET_COLUMNS, fleetRows } from './fleet.js';
import type { ResultDocument } from '../result/document.js';
import { switchovers } from './switchover.js';
import { isOurServer } from './whose.js';
import { lanesOf } from '../result/lanes.js';
import { causesText } from '../load/recorder.js';
import { pidChartSkipped } from '../verdict.js';
import { count, ms } from '../format.js';
import { errorCodeName } from '../load/h2-ledger.js';

const escape = (text: unknown) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A ledger's failures, with their causes. */
function failedText(load: { failed: number; failuresByCause: Record<string, number | undefined> }): string {
  return `${count(load.failed)}${load.failed ? ` (${causesText(load.failuresByCause)})` : ''}`;
}

function table(headers: string[], rows: (string | number)[][]): string {
  const head = headers.map((h) => `<th>${escape(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Renders the whole page from a result document. */
export async function renderHtmlReport(doc: ResultDocument): Promise<string> {
  const [share, rate, latency, harness, failures] = await Promise.all(
    [pidShareSpec(doc), rateSpec(doc), latencySpec(doc), harnessSpec(doc), failuresSpec(doc)].map(renderSvg),
  );
  const verdict = doc.inconclusive ? 'INCONCLUSIVE' : doc.passed ? 'PASSED' : 'FAILED';
  // Only an inconclusive page carries its style: every other page stays as it was written.
  const inconclusiveStyle = doc.inconclusive
    ? '  .inconclusive { background: #a15c00; } td.unsure { color: #a15c00; }\n'
    : '';
  const causes =
    Object.entries(doc.failuresByCause)
      .map(([cause, n]) => `${count(n ?? 0)} ${cause}`)
      .join(', ') || 'none';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>reuseport-lab: ${verdict}, ${count(doc.failedRequests)} of ${count(doc.totalRequests)} requests failed</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; padding: 0 16px; }
  h1 { font-size: 22px; margin-bottom: 4px; }
  h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #eee; padding-bottom: 4px; }
  .verdict { display: inline-block; padding: 4px 12px; border-radius: 4px; color: #fff; font-weight: 600; }
  .passed { background: #2a7d2e; } .failed { background: #c62828; }
${inconclusiveStyle}  .totals { display: flex; gap: 28px; margin: 14px 0; } .totals div b { display: block; font-size: 22px; }
  table { border-collapse: collapse; margin: 8px 0; } th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eee; }
  td.ok { color: #2a7d2e; } td.bad { color: #c62828; } td.skip { color: #888; }
  figure { margin: 18px 0; } svg { max-width: 100%; height: auto; }
  .muted { color: #666; }
</style>
</head>
<body>
<h1>reuseport-lab restart report <span class="verdict ${doc.inconclusive ? 'inconclusive' : doc.passed ? 'passed' : 'failed'}" id="verdict">${verdict}</span></h1>
<p class="muted">${escape(new Date(doc.startedAt).toISOString())} · ${escape(doc.runtime.description)}${doc.interrupted ? ` · interrupted: ${escape(doc.interrupted.reason)}` : ''}</p>
<div class="totals">
  <div><b>${count(doc.totalRequests)}</b>requests</div>
  <div><b>${count(doc.failedRequests)}</b>failed (${escape(causes)})</div>
  <div><b>${doc.restarts.length}</b>restarts</div>
  <div><b>${doc.pids.length}</b>${doc.identityNames ? 'replicas' : 'PIDs'} answered</div>
</div>
${doc.fault ? `<p id="fault"><b>Injected fault: ${escape(doc.fault.name)}</b>: ${escape(doc.fault.summary)}</p>` : ''}
<h2>Checks</h2>
<table><tbody>
${doc.checks.map((c) => `<tr><td class="${c.skipped ? 'skip' : c.passed ? 'ok' : c.inconclusive ? 'unsure' : 'bad'}">${c.skipped ? '○' : c.passed ? '✓' : c.inconclusive ? '?' : '✗'}</td><td>${escape(c.name)}</td><td>${escape(c.detail)}</td></tr>`).join('\n')}
</tbody></table>
<h2>Over time</h2>
${pidChartSkipped(doc.checks) ? `<p id="chart-pid-share" class="muted">PID chart skipped: ${escape(pidChartSkipped(doc.checks))}</p>` : `<figure id="chart-pid-share">${share}</figure>`}
<figure id="chart-rate">${rate}</figure>
<figure id="chart-latency">${latency}</figure>
<figure id="chart-harness">${harness}</figure>
<figure id="chart-failures">${failures}</figure>
${tablesHtml(doc)}
<p class="muted">Rendered from result.json (schema ${doc.schemaVersion}). Re-render with <code>npx reuseport-lab report path/to/result.json</code>.</p>
</body>
</html>
`;
}

/** How many of the first lost streams the page lists (the record keeps up to 200). */
const LOST_STREAMS_LISTED = 20;

/**
 * HTTP/2's own table, for a run over h2c or h2: per mode, the GOAWAYs the
 * sessions got and how each stream that was not answered ended; then the
 * first streams lost, and the gRPC statuses. Empty over HTTP/1.1, so those
 * pages stay as they were.
 */
function http2Html(doc: ResultDocument): string {
  const modes = lanesOf(doc).flatMap((lane) =>
    lane.kind === 'mode' && lane.record.http2 ? [{ label: lane.label, http2: lane.record.http2 }] : [],
  );
  if (!modes.length) return '';
  const gap = (g: { min: number; max: number } | null) =>
    g ? (g.min === g.max ? ms(g.min) : `${ms(g.min)}–${ms(g.max)}`) : '–';
  const lost = modes.flatMap(({ label, http2 }) => http2.lost.map((stream) => ({ label, stream })));
  const statuses = modes.flatMap(({ label, http2 }) =>
    Object.entries(http2.grpcStatuses ?? {}).map(([status, n]) => [label, status, count(n)]),
  );
  return `<h2 id="http2">HTTP/2 sessions and streams</h2>
<p class="muted">A server that drains well sends each session a notice (a GOAWAY with last stream id 2^31−1), then the final GOAWAY naming the last stream it took, and finishes every stream up to it. Refused streams (REFUSED_STREAM, or above a final GOAWAY's last stream id) were never processed: a client may send them again. Reset and cut streams were taken and lost.</p>
${table(
  [
    'load',
    'sessions',
    'GOAWAYs',
    'notices',
    'final with no notice',
    'closed with no GOAWAY',
    'notice → final',
    'refused',
    'reset',
    'cut',
    'sent again unwritten',
    'retried (answered)',
  ],
  modes.map(({ label, http2: { protocol, sessions, goaways, streams } }) => [
    `${label} (${protocol})`,
    count(sessions),
    count(goaways.count),
    count(goaways.notices),
    count(goaways.finalsWithoutNotice),
    count(goaways.closedWithoutGoaway),
    gap(goaways.noticeToFinalMs),
    count(streams.refused + streams.crossed),
    count(streams.reset),
    count(streams.cut),
    count(streams.resentUnsent),
    `${count(streams.retried)} (${count(streams.answeredAfterRetry)})`,
  ]),
)}${
    lost.length
      ? `\n<p>${lost.length > LOST_STREAMS_LISTED ? `The first ${LOST_STREAMS_LISTED} streams lost` : 'Streams lost'}, in seconds since the load started:</p>\n${table(
          ['s', 'load', 'session', 'stream', 'how', 'RST_STREAM code'],
          lost
            .slice(0, LOST_STREAMS_LISTED)
            .map(({ label, stream }) => [
              ((stream.at - doc.startedAt) / 1000).toFixed(2),
              label,
              stream.session,
              stream.stream,
              stream.how,
              stream.code ? errorCodeName(stream.code) : '–',
            ]),
        )}`
      : ''
  }${statuses.length ? `\n<p>gRPC calls by grpc-status:</p>\n${table(['load', 'grpc-status', 'calls'], statuses)}` : ''}
`;
}

/** The tables below the charts: each switchover, what it saw, each lane's ledger, each process, the fleet, the parameters. */
function tablesHtml(doc: ResultDocument): string {
  const facts = {
    ...doc.runtime.facts,
    load: doc.parameters.loadDescription,
    // A user's restart command is in the runtime's facts already; "your-command" is no strategy of theirs.
    ...(isOurServer(doc) ? { strategy: doc.parameters.strategy } : {}),
    connections: doc.parameters.connections,
    'bucket width': `${doc.bucketMs} ms`,
  };

  return `<h2>Switchover per restart</h2>
<p class="muted">Latency from the trigger until the old server is gone, against the warm-up's steady state: p99 ${ms(doc.steady.latency?.p99)}, max ${ms(doc.steady.latency?.max)}. Budget: ${ms(doc.parameters.latencyBudgetMs)}.</p>
${table(
  [
    '#',
    'old PID',
    'new PID',
    'outcome',
    'trigger → new ready',
    "SIGTERM → old PID's last answer",
    'SIGTERM → old exit',
    'switchover p99',
    'switchover max',
  ],
  switchovers(doc).map((s) => [
    s.index,
    s.oldPid ?? '–',
    s.newPid ?? '–',
    s.outcome,
    ms(s.readyMs),
    ms(s.lastOldAnswerMs),
    ms(s.oldGoneMs),
    ms(s.latency?.p99),
    ms(s.latency?.max),
  ]),
)}
<h2 id="evidence">What else each switchover saw</h2>
<p class="muted">How the old server's listener closed (${isOurServer(doc) ? 'drain contract, line 2' : "this project's server says so in its log; yours is not asked"}), the kernel's TCP counters in the servers' network namespace (${escape(doc.netCounters.source ?? doc.netCounters.error ?? 'not read')}) from just before the restart to just before the next, and whether the harness itself was stalled.</p>
${table(
  ['#', 'old listener', 'kernel', 'harness'],
  switchovers(doc).map((s) => [
    s.index,
    listenerText(s.evidence.oldListener) || '–',
    kernelText(s.evidence.kernel),
    harnessText(s.evidence.harness),
  ]),
)}
<h2>Per load mode</h2>
<p class="muted">Reused keep-alive connections and a new connection per request fail differently: a draining server ends the first, a closed listener refuses or resets the second.</p>
${table(
  ['load', 'written', 'answered', 'failed', 'in flight at stop', 'steady p99', 'steady max'],
  // A mode's latency is its steady state; a mix kind's and the long lane's that of the whole run (they keep no
  // windows, and the long lane's requests are long on purpose). A stream lane counts no requests: its check and
  // the terminal tell it.
  lanesOf(doc).flatMap((lane) =>
    lane.ledger
      ? [
          [
            lane.label,
            count(lane.ledger.written),
            count(lane.ledger.answered),
            failedText(lane.ledger),
            count(lane.ledger.inFlightAtStop),
            ms(lane.latency?.p99),
            ms(lane.latency?.max),
          ],
        ]
      : [],
  ),
)}
${http2Html(doc)}<h2>Responses per ${doc.identityNames ? 'replica' : 'PID'}</h2>
${table(
  [doc.identityNames ? 'replica' : 'PID', 'responses', 'first answer (s)', 'last answer (s)'],
  doc.pids.map((p) => [
    identityLabel(doc, String(p.pid)),
    count(p.count),
    ((p.first - doc.startedAt) / 1000).toFixed(2),
    ((p.last - doc.startedAt) / 1000).toFixed(2),
  ]),
)}${doc.fleet ? `\n<h2 id="fleet">Tasks of ${escape(doc.fleet.service)}</h2>\n<p class="muted">As the swarm told them, in seconds since the load started: created, running, out of the service's DNS (desired state shutdown), sent the stop signal, ended.${doc.fleet.error ? ` ${escape(doc.fleet.error)}` : ''}</p>\n${table(FLEET_COLUMNS, fleetRows(doc))}` : ''}
<h2>Run parameters</h2>
${table(
  ['parameter', 'value'],
  Object.entries(facts).map(([k, v]) => [k, String(v)]),
)}`;
}
