// Real runs recorded as fixtures (test/fixtures/results/capture.sh): each
// result.json still matches its schema, and every file view rendered from it
// today is the one written when it ran. Whatever changes a view, or what a
// view reads from the document, shows here as a diff.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/processes.js';
import { junitXml, markdownSummary } from './ci-summary.js';
import { renderHtmlReport } from './html-report.js';
import { type ResultDocument, schemaProblem } from './result-json.js';

const DIR = join(ROOT, 'test/fixtures/results');
const CASES = readdirSync(DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

const read = (name: string, file: string) => readFileSync(join(DIR, name, file), 'utf8');

describe('recorded runs', () => {
  it('cover passing runs, the naive control, every fault, the systemd designs and the gate', () => {
    expect(CASES).toEqual(expect.arrayContaining(['poc-reuseport', 'poc-naive', 'poc-handoff', 'poc-local', 'gate-image', 'gate-image-no-identity', 'fault-stall-after-ready', 'poc-systemd-socket']));
    expect(CASES.length).toBeGreaterThanOrEqual(18);
  });

  describe.each(CASES)('%s', (name) => {
    const doc = JSON.parse(read(name, 'result.json')) as ResultDocument;

    it('matches the result schema', () => {
      expect(schemaProblem(doc)).toBeNull();
    });

    it('renders the summary.md and junit.xml it was written with', () => {
      expect(markdownSummary(doc)).toBe(read(name, 'summary.md'));
      expect(junitXml(doc)).toBe(read(name, 'junit.xml'));
    });

    it('renders the report.html it was written with', async () => {
      const recorded = gunzipSync(readFileSync(join(DIR, name, 'report.html.gz'))).toString('utf8');
      expect(await renderHtmlReport(doc)).toBe(recorded);
    });

    it('printed the verdict its checks hold', () => {
      const failing = doc.checks.filter((c) => !c.passed).map((c) => c.id);
      const last = read(name, 'terminal.txt').split('\n').find((line) => /^(PASSED|FAILED):/.test(line));
      expect(last, 'the terminal output has no verdict line').toBeDefined();
      if (doc.passed) expect(last).toMatch(/^PASSED:/);
      else expect(last).toContain(`failing checks: ${failing.join(', ')}`);
    });
  });
});
