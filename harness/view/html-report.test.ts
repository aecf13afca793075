import { describe, expect, it } from 'vitest';
import { Recorder } from '../load/recorder.js';
import type { ScenarioResult } from '../scenario.js';
import { judge } from '../verdict.js';
import { junitXml, markdownSummary } from './ci-summary.js';
import { renderHtmlReport } from './html-report.js';
import { toResultDocument } from './result-json.js';
import { switchovers } from './switchover.js';

const t0 = 1_700_000_000_000;

/** A small run: PID 101 replaced by PID 202 at t0+1s; `failures` adds failed requests. */
function doc(failures = 0) {
  const recorder = new Recorder(250, t0);
  for (let t = 0; t < 1300; t += 20) recorder.answer(101, 2, t0 + t);
  for (let t = 1100; t < 2500; t += 20) recorder.answer(202, 3, t0 + t);
  for (let i = 0; i < failures; i++) recorder.fail('connection_reset', t0 + 1200);
  recorder.end(t0 + 2500);
  const result: ScenarioResult = {
    options: { strategy: 'reuseport', load: 'keepalive', connections: 5, restarts: 1, intervalMs: 1000, warmupMs: 1000, cooldownMs: 1000, bucketMs: 250, requestTimeoutSeconds: 10 },
    runtime: { kind: 'local', description: 'test runtime', facts: { node: 'v20', kernel: '6.x', tcp_migrate_req: '1' } },
    target: { host: '127.0.0.1', port: 8080, pid: 101 },
    load: recorder.snapshot(),
    inFlightAtStop: 0,
    leftovers: null,
    restarts: [
      {
        index: 1, strategy: 'reuseport', version: 'v2', triggeredAt: t0 + 1000, finishedAt: t0 + 1400, exitCode: 0, oldPid: 101, newPid: 202, messages: '', timedOut: null,
        events: [
          { ts: t0 + 1000, event: 'restart_started', old_pid: 101 },
          { ts: t0 + 1010, event: 'new_started', pid: 202 },
          { ts: t0 + 1100, event: 'new_ready', pid: 202 },
          { ts: t0 + 1200, event: 'old_signalled', pid: 101 },
          { ts: t0 + 1350, event: 'old_exited', pid: 101 },
        ],
      },
    ],
  };
  return toResultDocument(result, judge(result));
}

describe('switchovers', () => {
  it('derives the figures of each restart from its events', () => {
    expect(switchovers(doc())).toEqual([
      { index: 1, oldPid: 101, newPid: 202, exitCode: 0, outcome: 'ok', readyMs: 100, lastOldAnswerMs: 80, oldGoneMs: 150 },
    ]);
  });
});

describe('renderHtmlReport', () => {
  it('draws four SVG charts that name the PIDs, and the verdict', async () => {
    const html = await renderHtmlReport(doc());
    expect(html.match(/<figure id="chart-[a-z-]+"><svg/g)).toHaveLength(4);
    const share = html.slice(html.indexOf('id="chart-pid-share"'), html.indexOf('id="chart-rate"'));
    expect(share).toContain('>101<');
    expect(share).toContain('>202<');
    expect(html).toContain('id="verdict">PASSED');
    expect(html).not.toMatch(/<script|https?:\/\/(?!vega\.github\.io|www\.w3\.org)/);
  });

  it('shows failures as failed, with their cause', async () => {
    const html = await renderHtmlReport(doc(7));
    expect(html).toContain('id="verdict">FAILED');
    expect(html).toContain('7 connection_reset');
    expect(html).toContain('connection_reset</text>');
  });
});

describe('CI summaries', () => {
  it('writes a Markdown summary with the checks and restarts', () => {
    const md = markdownSummary(doc(2));
    expect(md).toContain('❌ failed');
    expect(md).toContain('| #1 | 101 → 202 | ok | 100 ms | 150 ms |');
  });

  it('writes JUnit XML with a testcase per check and per restart', () => {
    const xml = junitXml(doc(2));
    expect(xml).toMatch(/<testsuites tests="7" failures="1"/);
    expect(xml).toContain('name="restart #1 101 -&gt; 202"');
    expect(xml).toContain('<failure message="2 of');
  });
});
