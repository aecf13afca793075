// result.json: the run as data for other tools. Documented in README.md
// ("result.json"); bump RESULT_SCHEMA_VERSION on any incompatible change.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    fault: result.fault ?? null,
    leftovers: result.leftovers,
    bucketMs: result.load.bucketMs,
    buckets: result.load.buckets,
  };
}

export type ResultDocument = ReturnType<typeof toResultDocument>;

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

/** Reads a saved result.json; throws SetupError if it is not one this version can read. */
export function readResultDocument(path: string): ResultDocument {
  let doc: ResultDocument;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as ResultDocument;
  } catch (error) {
    throw new SetupError(`cannot read ${path} as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass the result.json of a run`);
  }
  if (doc?.schemaVersion !== RESULT_SCHEMA_VERSION) {
    throw new SetupError(`${path} has schemaVersion ${JSON.stringify(doc?.schemaVersion)}; this version reads ${RESULT_SCHEMA_VERSION}`);
  }
  return doc;
}
