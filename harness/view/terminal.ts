// The terminal view: a live progress line (TTY only), then the PID histogram
// over time and the verdict. Reads the result; decides nothing. Text that came
// from the target goes through forTerminal (safe-text.ts): no escape sequence of
// theirs reaches the terminal.
import chalk from 'chalk';
import { evidenceOf, harnessText, HARNESS_STALL_MS, kernelText, listenerText } from '../evidence.js';
import { causesText, type LatencySummary, type Recorder } from '../load/recorder.js';
import { UNKNOWN_PID } from '../load/response-check.js';
import type { ResultDocument } from '../result/document.js';
import { type Lane, lanesOf, type Ledger, streamFigures } from '../result/lanes.js';
import { timelineOf } from '../strategies/timeline.js';
import { pidChartSkipped } from '../verdict.js';
import { toRows } from './histogram.js';
import { FLEET_COLUMNS, fleetRows } from './fleet.js';
import { forTerminal as safe } from './safe-text.js';
import { isOurServer } from './whose.js';
import { count, counted } from '../format.js';

const latency = (l: LatencySummary | null) =>
  l ? `p99 ${Math.round(l.p99)} ms, max ${Math.round(l.max)} ms` : 'no responses';

const BAR_WIDTH = 40;
const MAX_ROWS = 40;
const PALETTE = [chalk.cyan, chalk.magenta, chalk.yellow, chalk.green, chalk.blue, chalk.white];
// Without colour (CI logs, NO_COLOR, a pipe) each PID gets its own glyph instead.
const GLYPHS = ['█', '░', '▓', '▒', '#', '='];

interface PidStyle {
  paint: (text: string) => string;
  glyph: string;
}

function pidStyles(pids: number[]): Map<number, PidStyle> {
  const coloured = chalk.level > 0;
  return new Map(
    pids.map((pid, i) => [
      pid,
      { paint: PALETTE[i % PALETTE.length]!, glyph: coloured ? '█' : GLYPHS[i % GLYPHS.length]! },
    ]),
  );
}

/** Starts a progress line on stderr, redrawn every 250 ms while `stream` is a TTY; slow responses count as failed, as the verdict will. Returns a stop function. */
export function startProgress(
  recorder: Recorder,
  latencyBudgetMs: number,
  stream: NodeJS.WriteStream = process.stderr,
): () => void {
  const live = stream.isTTY === true;
  let previous = 0;
  let previousAt = Date.now();
  const draw = () => {
    const totals = recorder.totals();
    const slow = recorder.slowerThan(latencyBudgetMs);
    const [answered, failed, pids] = [totals.answered - slow, totals.failed + slow, totals.pids];
    const now = Date.now();
    const rate = Math.round(((answered + failed - previous) * 1000) / Math.max(1, now - previousAt));
    previous = answered + failed;
    previousAt = now;
    const elapsed = ((now - recorder.startedAt) / 1000).toFixed(1);
    if (!live) {
      // A CI log: a plain line now and then, no colour, no carriage return.
      stream.write(
        `progress ${elapsed}s: ${count(rate)} req/s, ${count(answered)} answered, ${count(failed)} failed, PIDs ${pids.join(', ')}\n`,
      );
      return;
    }
    const failures = failed === 0 ? chalk.green('0 failed') : chalk.red(`${failed} failed`);
    stream.write(
      `\r\x1b[K${elapsed}s  ${count(rate)} req/s  ${count(answered)} answered  ${failures}  PIDs ${pids.join(', ')}`,
    );
  };
  const timer = setInterval(draw, live ? LIVE_EVERY_MS : PLAIN_EVERY_MS);
  return () => {
    clearInterval(timer);
    if (live) stream.write('\r\x1b[K');
  };
}

/** How often the live line is drawn on a terminal, and a plain line is written elsewhere (a CI log). */
const LIVE_EVERY_MS = 250;
export const PLAIN_EVERY_MS = 5000;

/**
 * A line for something that happened during the run (a restart done), on
 * the progress stream: on a terminal it replaces the live line, which the
 * next draw puts back under it.
 */
export function progressEvent(text: string, stream: NodeJS.WriteStream = process.stderr): void {
  stream.write(`${stream.isTTY ? '\r\x1b[K' : ''}${text}\n`);
}

const failedText = (ledger: Ledger) =>
  ledger.failed ? chalk.red(`${count(ledger.failed)} failed (${causesText(ledger.failuresByCause)})`) : '0 failed';

/** One lane's line under "Load, per mode": a mix's kinds indented under the modes that carry them. */
function laneLine(lane: Lane): string {
  const label = (lane.kind === 'request' ? `  ${lane.label}` : lane.label).padEnd(27);
  if (lane.kind === 'stream') {
    const { kind, breaks, events } = lane.record;
    const { lost, notGraceful: broken } = streamFigures(lane.record);
    const ended = `${breaks.length} ended${broken ? chalk.red(` (${broken} not gracefully)`) : ''}`;
    return `${label} ${count(events).padStart(9)} ${kind === 'sse' ? 'events' : 'messages'}, ${ended}, ${lost ? chalk.red(`${lost} lost`) : '0 lost'}`;
  }
  const { answered, inFlightAtStop } = lane.ledger;
  const when = lane.kind === 'mode' ? 'steady ' : '';
  const line = `${label} ${count(answered).padStart(9)} answered, ${failedText(lane.ledger)}, ${inFlightAtStop} in flight at stop; ${when}${latency(lane.latency)}`;
  const http2 = lane.kind === 'mode' ? lane.record.http2 : null;
  return http2 ? `${line}\n  ${' '.repeat(28)}${http2Line(http2)}` : line;
}

/** What an HTTP/2 mode's sessions saw, under its line: GOAWAYs, and the streams not answered by how they ended. */
function http2Line(http2: NonNullable<ResultDocument['modes'][number]['http2']>): string {
  const { goaways, streams } = http2;
  const refused = streams.refused + streams.crossed;
  const lost = streams.reset + streams.cut;
  return [
    `${http2.protocol}: ${counted(http2.sessions, 'session')}`,
    `${counted(goaways.count, 'GOAWAY')} (${count(goaways.notices)} notices${goaways.finalsWithoutNotice ? chalk.red(`, ${count(goaways.finalsWithoutNotice)} final with no notice`) : ''})`,
    refused ? chalk.yellow(`${count(refused)} refused`) : '0 refused',
    lost ? chalk.red(`${count(lost)} lost`) : '0 lost',
    `${count(streams.resentUnsent)} sent again unwritten`,
  ].join(', ');
}

/** Renders the PID histogram, the restarts and the verdict of a result document as text. */
export function renderSummary(doc: ResultDocument): string {
  const lines: string[] = [];
  const pids = doc.pids.map((p) => p.pid);
  const style = pidStyles(pids);
  const t0 = doc.startedAt;

  const noPids = pidChartSkipped(doc.checks);
  lines.push(
    chalk.bold(
      noPids
        ? `Responses over time (which process answered is not known: ${noPids})`
        : 'PID share of responses over time',
    ),
  );
  const label = (pid: number) => (pid === UNKNOWN_PID ? 'no identity' : String(pid));
  lines.push(
    `  legend: ${pids.map((pid) => style.get(pid)!.paint(`${style.get(pid)!.glyph} ${label(pid)}`)).join('  ')}  ${chalk.red('✗ failed')}`,
  );
  for (const row of toRows(doc.buckets, doc.bucketMs, doc.restarts, MAX_ROWS)) {
    const total = [...row.pids.values()].reduce((a, b) => a + b, 0) + row.failed;
    let bar = '';
    let used = 0;
    for (const pid of pids) {
      const count = row.pids.get(pid) ?? 0;
      const width = total ? Math.round((count / total) * BAR_WIDTH) : 0;
      const { paint, glyph } = style.get(pid)!;
      bar += paint(glyph.repeat(Math.min(width, BAR_WIDTH - used)));
      used = Math.min(BAR_WIDTH, used + width);
    }
    if (row.failed) {
      const width = Math.max(1, Math.round((row.failed / total) * BAR_WIDTH));
      bar += chalk.red('✗'.repeat(Math.min(width, BAR_WIDTH - used + 1)));
      used += width;
    }
    bar += ' '.repeat(Math.max(0, BAR_WIDTH - used));
    const at = `${((row.start - t0) / 1000).toFixed(1).padStart(6)}s`;
    const counts = `${String(total).padStart(7)}${row.failed ? chalk.red(` ${row.failed}✗`) : ''}`;
    lines.push(`  ${at} ${bar} ${counts}${row.events.length ? chalk.dim(`  ◀ ${safe(row.events.join(', '))}`) : ''}`);
  }

  lines.push('', chalk.bold('Load, per mode'));
  for (const lane of lanesOf(doc)) lines.push(`  ${laneLine(lane)}`);

  lines.push('', chalk.bold('Restarts'));
  const windows = new Map(doc.switchovers.map((w) => [w.index, w]));
  // Our restarts say which process replaced which, by which strategy, with which version; a user's command
  // says none of that (the gate does not start their versions), so its line names nothing it cannot see.
  const ours = isOurServer(doc);
  const who = (r: ResultDocument['restarts'][number]) =>
    ours
      ? `${r.oldPid ?? '-'} → ${r.newPid ?? '-'} (${r.strategy}, ${r.version}) `
      : r.oldPid !== null || r.newPid !== null
        ? `${r.oldPid ?? '-'} → ${r.newPid ?? '-'} `
        : '';
  for (const r of doc.restarts) {
    const ok = r.exitCode === 0 ? chalk.green('ok') : chalk.red(`exit ${r.exitCode}`);
    const { newReadyAt, oldGoneAt, oldGone } = timelineOf(r);
    const timing = [
      newReadyAt !== undefined && `ready after ${newReadyAt - r.triggeredAt} ms`,
      oldGoneAt !== undefined && `old ${oldGone} after ${oldGoneAt - r.triggeredAt} ms`,
    ]
      .filter(Boolean)
      .join(', ');
    const window = windows.get(r.index);
    const during = window?.stats.latency ? `; switchover ${latency(window.stats.latency)}` : '';
    lines.push(`  #${r.index} ${who(r)}${ok}${timing ? `  ${timing}` : ''}${during}`);
    if (r.timedOut) lines.push(chalk.red(`     ${safe(r.timedOut)}`));
    const seen = evidenceOf(doc, r.index);
    const stalled = seen.harness.loopDelayMaxMs >= HARNESS_STALL_MS;
    const parts = [
      listenerText(seen.oldListener),
      kernelText(seen.kernel),
      stalled ? chalk.yellow(harnessText(seen.harness)) : '',
    ].filter(Boolean);
    lines.push(chalk.dim(`     ${parts.join('; ')}`));
  }

  if (doc.fleet) {
    lines.push('', chalk.bold(`Tasks of ${doc.fleet.service}`) + chalk.dim(' (s since the load started)'));
    const rows = [FLEET_COLUMNS, ...fleetRows(doc).map((row) => row.map((cell) => safe(String(cell))))];
    const widths = FLEET_COLUMNS.map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
    for (const row of rows)
      lines.push(`  ${row.map((cell, i) => String(cell).padEnd(widths[i]!)).join('  ')}`.trimEnd());
  }

  if (doc.fault) lines.push('', `${chalk.bold('Injected fault')} ${doc.fault.name}: ${doc.fault.summary}`);

  lines.push('', chalk.bold('Verdict'));
  for (const check of doc.checks)
    lines.push(
      `  ${check.skipped ? chalk.dim('○') : check.passed ? chalk.green('✓') : check.inconclusive ? chalk.yellow('?') : chalk.red('✗')} ${safe(check.name)}: ${safe(check.detail)}`,
    );
  lines.push('');
  lines.push(verdictLine(doc));
  lines.push(chalk.dim(`  runtime: ${safe(doc.runtime.description)}`));
  lines.push(chalk.dim(`  load: ${safe(doc.parameters.loadDescription)}`));
  return lines.join('\n');
}

/** The verdict in one line: PASSED, FAILED with the failing checks, or INCONCLUSIVE. */
export function verdictLine(doc: ResultDocument): string {
  const failing = doc.checks.filter((c) => !c.passed && !c.inconclusive).map((c) => c.id);
  return doc.inconclusive
    ? chalk.yellow.bold(
        `INCONCLUSIVE: the load generator fell behind its schedule, so this run neither passes nor fails the server (${count(doc.totalRequests)} requests${failing.length ? `; checks that would have failed: ${failing.join(', ')}` : ''})`,
      )
    : doc.passed
      ? chalk.green.bold(
          `PASSED: ${count(doc.totalRequests)} requests, 0 failed, across ${doc.restarts.length} restarts`,
        )
      : chalk.red.bold(
          `FAILED: ${count(doc.failedRequests)} of ${count(doc.totalRequests)} requests failed; failing checks: ${doc.checks
            .filter((c) => !c.passed)
            .map((c) => c.id)
            .join(', ')}`,
        );
}
