// Real runs recorded as fixtures (test/fixtures/results/capture.sh), written
// as schema version 3 before the harness was redesigned around one check
// table (issue "one program"). Each is read as the current version, judged again from
// its record alone, and rendered again: the checks and every view, the
// terminal included, are the ones written when it ran, except where the
// redesign meant them to change (INTENDED below).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import chalk from 'chalk';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../test/processes.js';
import {
  readResultDocument,
  recordIn,
  type ResultDocument,
  RESULT_SCHEMA_VERSION,
  schemaProblem,
} from '../result/document.js';
import { judge, type Check } from '../verdict.js';
import { junitXml, markdownSummary } from './ci-summary.js';
import { renderHtmlReport } from './html-report.js';
import { renderSummary } from './terminal.js';
import { isOurServer, restartsName } from './whose.js';

const DIR = join(ROOT, 'test/fixtures/results');
const CASES = readdirSync(DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

const read = (name: string, file: string) => readFileSync(join(DIR, name, file), 'utf8');
const GATE_CASES = ['gate-image', 'gate-image-no-identity'];

/**
 * What the redesign changed on purpose. The local runtime now says that it
 * probes no leftovers (a skipped check with its reason, where the check used
 * to be left out), and the gate's checks come in the one table's order (the
 * end-of-run check after the version check, as for our own server). The
 * report's footnote names the schema version it was rendered from, and a
 * command that works from the installed package. A gate run (someone else's
 * server) names the restarts by the user's command, not our "your-command".
 */
/**
 * The restart events got colours of their own (two pairs were one colour, and some a PID's): the recorded pages
 * are compared with every colour taken out; charts.test.ts holds the colours to what they must be.
 */
const withoutColours = (page: string) => page.replace(/#[0-9a-f]{6}\b/gi, '#colour');

const HARNESS_FIGURE = /<figure id="chart-harness">[\s\S]*?<\/figure>/;

const INTENDED = {
  html: (recorded: string, doc: ResultDocument, rendered: string) => {
    let page = recorded
      // The harness chart's title is two lines now (one line made its SVG half again as wide as the others):
      // that chart is taken from the new page; its width is checked on its own below.
      .replace(HARNESS_FIGURE, () => HARNESS_FIGURE.exec(rendered)?.[0] ?? '')
      .replace('Rendered from result.json (schema 3)', `Rendered from result.json (schema ${RESULT_SCHEMA_VERSION})`)
      // The footer names a command that works from the installed package too, not only in a clone.
      .replace(
        '<code>npm run report -- path/to/result.json</code>',
        '<code>npx reuseport-lab report path/to/result.json</code>',
      );
    // A report of someone else's server says their restart command, not our word for it, and does not send them
    // to our drain contract for what their server does not report.
    if (!isOurServer(doc))
      page = page
        .replace('<tr><td>strategy</td><td>your-command</td></tr>\n', '')
        .replace('(drain contract, line 2)', "(this project's server says so in its log; yours is not asked)");
    return page;
  },
  markdown: (recorded: string, doc: ResultDocument) =>
    isOurServer(doc)
      ? recorded
      : recorded.replace(/(\d+) your-command restarts\./, (_, n: string) => `${n} restarts by ${restartsName(doc)}.`),
  terminal: (recorded: string, doc: ResultDocument) =>
    isOurServer(doc) ? recorded : recorded.replace(/ \(your-command, v\d+\) /g, ' '),
  addedChecks: (name: string): Check[] =>
    name === 'poc-local'
      ? [
          {
            id: 'no-leftovers',
            name: 'no leftover processes, zombies or leaked fds',
            passed: true,
            skipped: true,
            skipReason: "local servers run among the machine's other processes; the docker runtime probes what is left",
            detail:
              "skipped: local servers run among the machine's other processes; the docker runtime probes what is left",
          },
        ]
      : [],
  reordered: (name: string) => GATE_CASES.includes(name),
};

/** Checks in the order the one table lists them. */
const ORDER = [
  'run-completed',
  'load-ran',
  'zero-failed-requests',
  'latency-budget',
  'no-stall',
  'accounting',
  'restarts-exited-0',
  'rolled-back',
  'long-request',
  'old-server-ending',
  'new-pids-answered',
  'old-pid-silent-after-exit',
  'versions',
  'only-newest-at-end',
  'no-leftovers',
];
const inTableOrder = (checks: Check[]) => [...checks].sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));

describe('recorded runs', () => {
  beforeAll(() => {
    chalk.level = 0; // as captured: NO_COLOR
  });

  it('cover passing runs, the naive control, every fault, the systemd designs and the gate', () => {
    expect(CASES).toEqual(
      expect.arrayContaining([
        'poc-reuseport',
        'poc-naive',
        'poc-handoff',
        'poc-local',
        'gate-image',
        'gate-image-no-identity',
        'fault-stall-after-ready',
        'poc-systemd-socket',
      ]),
    );
    expect(CASES.length).toBeGreaterThanOrEqual(18);
  });

  describe.each(CASES)('%s', (name) => {
    const doc = readResultDocument(join(DIR, name, 'result.json'));
    const rejudged = { ...doc, ...judge(recordIn(doc)) };

    it('is read as a current document that matches the result schema', () => {
      expect(JSON.parse(read(name, 'result.json')).schemaVersion).toBe(3);
      expect(schemaProblem(doc)).toBeNull();
      expect(schemaProblem(rejudged)).toBeNull();
    });

    it('is judged again from its record alone, to the same checks', () => {
      const expected = [...doc.checks, ...INTENDED.addedChecks(name)];
      expect(rejudged.checks).toEqual(INTENDED.reordered(name) ? inTableOrder(expected) : expected);
      expect(rejudged.passed).toBe(doc.passed);
      expect([rejudged.totalRequests, rejudged.failedRequests]).toEqual([doc.totalRequests, doc.failedRequests]);
    });

    it('renders the summary.md and junit.xml it was written with', () => {
      expect(markdownSummary(doc)).toBe(INTENDED.markdown(read(name, 'summary.md'), doc));
      expect(junitXml(doc)).toBe(read(name, 'junit.xml'));
    });

    it('renders the report.html it was written with', async () => {
      const recorded = gunzipSync(readFileSync(join(DIR, name, 'report.html.gz'))).toString('utf8');
      const rendered = await renderHtmlReport(doc);
      expect(withoutColours(rendered)).toBe(withoutColours(INTENDED.html(recorded, doc, rendered)));
      // Every chart about as wide as the others, so the page shows their restart markers at one scale.
      const widths = [...rendered.matchAll(/<figure id="chart-[a-z-]+"><svg[^>]*? width="(\d+)"/g)].map((m) =>
        Number(m[1]),
      );
      expect(Math.max(...widths) / Math.min(...widths)).toBeLessThan(1.15);
    });

    it('renders the terminal summary it printed, from the document alone', () => {
      expect(INTENDED.terminal(read(name, 'terminal.txt'), doc)).toContain(`\n${renderSummary(doc)}\n`);
    });

    it('printed the verdict its checks hold', () => {
      const failing = doc.checks.filter((c) => !c.passed).map((c) => c.id);
      const last = read(name, 'terminal.txt')
        .split('\n')
        .find((line) => /^(PASSED|FAILED):/.test(line));
      expect(last, 'the terminal output has no verdict line').toBeDefined();
      if (doc.passed) expect(last).toMatch(/^PASSED:/);
      else expect(last).toContain(`failing checks: ${failing.join(', ')}`);
    });
  });
});
