// The HTTP/2 checks on hand-made runs: a server that warned and kept every
// stream passes both; one that exits with streams open fails naming each
// stream, its session and the restart; a one-shot GOAWAY fails the notice
// check saying what to do; a run over HTTP/1.1 gets neither check.
import chalk from 'chalk';
import { describe, expect, it } from 'vitest';
import { restart, scenario, t0 } from '../../test/fixtures/scenario-result.js';
import { Http2Ledger, NOTICE_LAST_STREAM_ID } from '../load/h2-ledger.js';
import type { RunRecord } from '../result/document.js';
import { schemaProblem, toResultDocument } from '../result/document.js';
import { judge } from '../verdict.js';
import { renderHtmlReport } from '../view/html-report.js';
import { renderSummary } from '../view/terminal.js';

/** A keep-alive run over h2c with one restart at t0+1000; `sessions` writes its ledger. */
function h2Run(sessions: (ledger: Http2Ledger) => void, fail?: 'refused_stream' | 'stream_reset'): RunRecord {
  const ledger = new Http2Ledger('h2c');
  sessions(ledger);
  return scenario(
    (_mode, r) => {
      for (let t = 0; t < 3000; t += 10) {
        r.written();
        const at = t0 + t + 2;
        if (fail && t === 1020) r.fail(fail, at);
        else r.answer(at < t0 + 1150 ? 1 : 2, at < t0 + 1150 ? 'v1' : 'v2', 2, at);
      }
    },
    {
      load: 'keepalive',
      restarts: [restart(1, 1, 2, t0 + 1000)],
      http2: () => ledger.snapshot(),
      edit: (record) => Object.assign(record.parameters, { protocol: 'h2c', retryRefused: false }),
    },
  );
}

const checks = (run: RunRecord) => judge(run).checks.filter((c) => c.id.startsWith('http2-'));

describe('HTTP/2 checks', () => {
  it('pass a server that sent the notice, then the final GOAWAY, and finished every stream it took', () => {
    const run = h2Run((ledger) => {
      const session = ledger.opened();
      ledger.goaway(session, NOTICE_LAST_STREAM_ID, 0, t0 + 1110);
      ledger.goaway(session, 41, 0, t0 + 1117);
      ledger.closed(session, true);
    });
    expect(checks(run)).toEqual([
      expect.objectContaining({
        id: 'http2-streams-kept',
        name: 'no stream the server took was lost (keep-alive, h2c)',
        passed: true,
        detail: '300 streams answered on 1 session, none reset or cut; none refused',
      }),
      expect.objectContaining({
        id: 'http2-goaway-notice',
        passed: true,
        detail: '1 session got the notice first (last stream id 2147483647), the final one 7–7 ms later',
      }),
    ]);
    expect(schemaProblem(toResultDocument(run, judge(run)))).toBeNull();
  });

  it('fail a server that exits with streams open, naming each stream, its session and the restart', () => {
    const run = h2Run((ledger) => {
      const session = ledger.opened();
      ledger.goaway(session, NOTICE_LAST_STREAM_ID, 0, t0 + 1110);
      ledger.goaway(session, 41, 0, t0 + 1117);
      ledger.ended('reset', session, 39, 2, t0 + 1020);
    }, 'stream_reset');
    const kept = checks(run).find((c) => c.id === 'http2-streams-kept')!;
    expect(kept.passed).toBe(false);
    expect(kept.detail).toBe(
      '1 stream the server had taken was lost (1 reset at or below the last stream id, 0 cut when the connection ended): stream 39 of session 1 reset (INTERNAL_ERROR) in restart #1 (1.02 s). A server that exits must finish every stream at or below the last stream id of its final GOAWAY first',
    );
    expect(judge(run).checks.find((c) => c.id === 'zero-failed-requests')?.passed).toBe(false);
  });

  it('fail a one-shot GOAWAY on the notice check, saying what crossed it and what a server should do', () => {
    const run = h2Run((ledger) => {
      const session = ledger.opened();
      ledger.goaway(session, 41, 0, t0 + 1110);
      ledger.ended('crossed', session, 43, 7, t0 + 1020);
      ledger.closed(session, true);
    }, 'refused_stream');
    const [kept, notice] = checks(run);
    // Refused is never processed: not lost, but a failed request all the same for a client that does not retry.
    expect(kept).toMatchObject({ passed: true });
    expect(kept!.detail).toContain("1 refused, never processed (1 above a GOAWAY's last stream id): not sent again");
    expect(notice).toMatchObject({ passed: false });
    expect(notice!.detail).toBe(
      '1 session got the final GOAWAY with no notice first (a one-shot GOAWAY). A stream the client opens while that GOAWAY is on the wire crosses it and is refused (1 here): a server should send a GOAWAY with last stream id 2147483647 first, wait a round trip (a PING), then the final one',
    );
  });

  it('fail a server that closes a session with no GOAWAY at all', () => {
    const run = h2Run((ledger) => ledger.closed(ledger.opened(), true));
    expect(checks(run)[1]).toMatchObject({
      passed: false,
      detail: expect.stringContaining('1 session was closed by the server with no GOAWAY at all'),
    });
  });

  it("are seen in the terminal too: each HTTP/2 mode's sessions, GOAWAYs and unanswered streams under its line", () => {
    chalk.level = 0;
    const run = h2Run((ledger) => {
      const session = ledger.opened();
      ledger.goaway(session, 41, 0, t0 + 1110);
      ledger.ended('crossed', session, 43, 7, t0 + 1020);
    }, 'refused_stream');
    const lines = renderSummary(toResultDocument(run, judge(run))).split('\n');
    const at = lines.findIndex((line) => line.startsWith('  keep-alive '));
    expect(lines[at + 1]!.trim()).toBe(
      'h2c: 1 session, 1 GOAWAY (0 notices, 1 final with no notice), 1 refused, 0 lost, 0 sent again unwritten',
    );
  });

  it('make neither check for a run over HTTP/1.1', () => {
    const run = scenario((_mode, r) => {
      r.written();
      r.answer(1, 'v1', 2, t0 + 10);
    });
    expect(checks(run)).toEqual([]);
  });
});

describe('the HTML report of an HTTP/2 run', () => {
  it('has a table of the GOAWAYs and the streams per mode, and lists the streams lost with their code', async () => {
    const run = h2Run((ledger) => {
      const session = ledger.opened();
      ledger.goaway(session, NOTICE_LAST_STREAM_ID, 0, t0 + 1110);
      ledger.goaway(session, 41, 0, t0 + 1117);
      ledger.ended('reset', session, 39, 2, t0 + 1020);
    }, 'stream_reset');
    const html = await renderHtmlReport(toResultDocument(run, judge(run)));
    const section = html.slice(html.indexOf('<h2 id="http2">'), html.indexOf('<h2>Responses per'));
    expect(section).toContain(
      '<tr><td>keep-alive (h2c)</td><td>1</td><td>2</td><td>1</td><td>0</td><td>0</td><td>7 ms</td><td>0</td><td>1</td><td>0</td><td>0</td><td>0 (0)</td></tr>',
    );
    expect(section).toContain(
      '<tr><td>1.02</td><td>keep-alive</td><td>1</td><td>39</td><td>reset</td><td>INTERNAL_ERROR</td></tr>',
    );
  });

  it('has no such table over HTTP/1.1', async () => {
    const run = scenario((_mode, r) => (r.written(), r.answer(1, 'v1', 2, t0 + 5)), { load: 'keepalive' });
    expect(await renderHtmlReport(toResultDocument(run, judge(run)))).not.toContain('id="http2"');
  });
});
