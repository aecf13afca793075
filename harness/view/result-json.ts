// result.json: the run as data for other tools. Documented in README.md
// ("result.json"); bump RESULT_SCHEMA_VERSION on any incompatible change.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SetupError } from '../errors.js';
import { describeLoad, type ScenarioResult } from '../scenario.js';
import type { Verdict } from '../verdict.js';

export const RESULT_SCHEMA_VERSION = 1;

/** The result.json document: one plain object, every time in ms since the epoch. */
export function toResultDocument(result: ScenarioResult, verdict: Verdict) {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    passed: verdict.passed,
    totalRequests: verdict.totalRequests,
    failedRequests: verdict.failedRequests,
    failuresByCause: result.load.failuresByCause,
    inFlightAtStop: result.inFlightAtStop,
    checks: verdict.checks,
    interrupted: result.interrupted ?? null,
    startedAt: result.load.startedAt,
    endedAt: result.load.endedAt,
    parameters: { ...result.options, loadDescription: describeLoad(result.options) },
    runtime: result.runtime,
    target: result.target,
    pids: result.load.pids,
    restarts: result.restarts,
    bucketMs: result.load.bucketMs,
    buckets: result.load.buckets,
  };
}

/** Checks up front that the report directory can be written, so a long run does not end in an error. */
export function prepareReportDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, '.write-test');
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    throw new SetupError(`--report-dir ${dir} cannot be written (${(error as NodeJS.ErrnoException).code}); choose a writable directory`);
  }
}

/** Writes result.json into `dir` and returns its path. */
export function writeResult(dir: string, result: ScenarioResult, verdict: Verdict): string {
  const path = join(dir, 'result.json');
  writeFileSync(path, `${JSON.stringify(toResultDocument(result, verdict), null, 2)}\n`);
  return path;
}
