// Writes every file view of a run into the report directory.
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SetupError } from '../errors.js';
import type { ResultDocument } from '../result/document.js';
import { junitXml, markdownSummary } from './ci-summary.js';
import { renderHtmlReport } from './html-report.js';

export const REPORT_FILES = {
  result: 'result.json',
  html: 'report.html',
  markdown: 'summary.md',
  junit: 'junit.xml',
} as const;

/**
 * Writes result.json (unless `withResult` is false, as when re-rendering),
 * report.html, summary.md and junit.xml into `dir`, and appends the summary
 * to $GITHUB_STEP_SUMMARY when that is set. Returns the paths written.
 */
export async function writeReport(dir: string, doc: ResultDocument, withResult = true): Promise<string[]> {
  const path = (name: string) => join(dir, name);
  const summary = markdownSummary(doc);
  if (withResult) writeFileSync(path(REPORT_FILES.result), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(path(REPORT_FILES.html), await renderHtmlReport(doc));
  writeFileSync(path(REPORT_FILES.markdown), summary);
  writeFileSync(path(REPORT_FILES.junit), junitXml(doc));
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, summary);
  return Object.values(REPORT_FILES)
    .filter((name) => withResult || name !== REPORT_FILES.result)
    .map(path);
}

/** Checks up front that the report directory can be written, so a long run does not end in an error. */
export function prepareReportDir(dir: string, flag = '--report-dir'): void {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, '.write-test');
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    throw new SetupError(
      `${flag} ${dir} cannot be written (${(error as NodeJS.ErrnoException).code}); choose a writable directory`,
    );
  }
}
