// Every view of an inconclusive run (the load generator fell behind) says
// so, and says it apart from a failure: the terminal, the HTML report, the
// job summary, and JUnit (an error, not a failure).
import chalk from 'chalk';
import { beforeAll, describe, expect, it } from 'vitest';
import { scenario, t0 } from '../../test/fixtures/scenario-result.js';
import { ScheduleRecorder } from '../load/arrivals.js';
import { schemaProblem, toResultDocument } from '../result/document.js';
import { judge } from '../verdict.js';
import { junitXml, markdownSummary } from './ci-summary.js';
import { renderHtmlReport } from './html-report.js';
import { renderSummary } from './terminal.js';

/** An open run in which the harness handed out a tenth of its requests 300 ms late. */
function behind() {
  const schedule = new ScheduleRecorder(100, 64, t0, 100);
  const run = scenario(
    (_mode, r) => {
      for (let t = 0; t < 3000; t += 10) {
        const late = t >= 2000 && t < 2300;
        schedule.due(t0 + t, late ? 300 : 1);
        r.written();
        r.answer(t < 1150 ? 1 : 2, t < 1150 ? 'v1' : 'v2', late ? 305 : 5, t0 + t + (late ? 305 : 5));
        schedule.answered(t0 + t);
      }
    },
    { schedule: () => schedule.record() },
  );
  return toResultDocument(run, judge(run));
}

describe('an inconclusive run', () => {
  beforeAll(() => {
    chalk.level = 0;
  });

  it('is neither passed nor failed in result.json, and matches the schema', () => {
    const doc = behind();
    expect(doc).toMatchObject({ passed: false, inconclusive: true, failedRequests: 0 });
    expect(doc.checks.filter((c) => !c.passed)).toEqual([
      expect.objectContaining({ id: 'load-on-schedule', inconclusive: true }),
    ]);
    expect(schemaProblem(doc)).toBeNull();
  });

  it('says INCONCLUSIVE on the terminal, with the check marked ?, not ✗', () => {
    const text = renderSummary(behind());
    expect(text).toMatch(
      /^ {2}\? the load kept its schedule .*: inconclusive, the load generator fell behind: keep-alive: the harness sent 30 of 300 requests \(10%\)/m,
    );
    expect(text).toContain(
      'INCONCLUSIVE: the load generator fell behind its schedule, so this run neither passes nor fails the server (300 requests)',
    );
    expect(text).not.toContain('FAILED');
    expect(text).not.toContain('PASSED');
  });

  it('is a JUnit error, not a failure, and the job summary says inconclusive', async () => {
    const doc = behind();
    const junit = junitXml(doc);
    expect(junit).toMatch(/<testsuites tests="\d+" failures="0" errors="1" time=/);
    expect(junit).toMatch(
      /<testcase classname="reuseport-lab.load-on-schedule" name="[^"]+"><error message="inconclusive, the load generator fell behind: [^"]+"\/><\/testcase>/,
    );
    expect(markdownSummary(doc)).toMatch(/^### reuseport-lab: ⚠️ inconclusive \(the load generator fell behind\)\n/);
    expect(markdownSummary(doc)).toContain('| ⚠️ the load kept its schedule');
    const html = await renderHtmlReport(doc);
    expect(html).toContain('<span class="verdict inconclusive" id="verdict">INCONCLUSIVE</span>');
    expect(html).toContain('<td class="unsure">?</td>');
  });
});
