// result.json: the run as data for other tools. Its shape is the JSON Schema
// in result.schema.json (documented in README.md, "result.json"); bump
// RESULT_SCHEMA_VERSION and the schema on any incompatible change.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { SetupError } from '../errors.js';
import { describeLoad, type ScenarioResult } from '../scenario.js';
import type { Verdict } from '../verdict.js';
import schema from './result.schema.json' with { type: 'json' };

export const RESULT_SCHEMA_VERSION = 3;

/** The run parameters, and nothing else (no output paths, no flags of the command line). */
function parameters(options: ScenarioResult['options']) {
  return {
    strategy: options.strategy,
    ...(options.foreign ? { foreign: { identity: options.foreign.identity, identityGiven: options.foreign.identityGiven, path: options.foreign.path, ready: options.foreign.ready, restart: options.foreign.restart, seesProcesses: options.foreign.seesProcesses } } : {}),
    load: options.load,
    loadDescription: describeLoad(options),
    connections: options.connections,
    restarts: options.restarts,
    intervalMs: options.intervalMs,
    warmupMs: options.warmupMs,
    cooldownMs: options.cooldownMs,
    bucketMs: options.bucketMs,
    requestTimeoutSeconds: options.requestTimeoutSeconds,
    latencyBudgetMs: options.latencyBudgetMs,
    stallFloor: options.stallFloor,
    fault: options.fault ?? null,
    restartSettings: options.restartSettings ?? null,
  };
}

/** The result.json document: one plain object, every time in ms since the epoch. */
export function toResultDocument(result: ScenarioResult, verdict: Verdict) {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    passed: verdict.passed,
    totalRequests: verdict.totalRequests,
    failedRequests: verdict.failedRequests,
    failuresByCause: result.load.failuresByCause,
    written: result.load.written,
    inFlightAtStop: result.load.inFlightAtStop,
    checks: verdict.checks,
    interrupted: result.interrupted ?? null,
    startedAt: result.load.startedAt,
    endedAt: result.load.endedAt,
    parameters: parameters(result.options),
    runtime: result.runtime,
    target: result.target,
    pids: result.load.pids,
    modes: result.modes.map(({ mode, load, steady, switchovers }) => ({
      mode,
      written: load.written,
      answered: load.answered,
      failed: load.failed,
      inFlightAtStop: load.inFlightAtStop,
      failuresByCause: load.failuresByCause,
      steady,
      switchovers,
      buckets: load.buckets,
    })),
    steady: result.steady,
    switchovers: result.switchovers,
    restarts: result.restarts,
    fault: result.fault ?? null,
    servers: result.servers,
    serversError: result.serversError,
    netCounters: result.netCounters,
    harness: result.harness,
    leftovers: result.leftovers,
    leftoversError: result.leftoversError,
    bucketMs: result.load.bucketMs,
    buckets: result.load.buckets,
  };
}

export type ResultDocument = ReturnType<typeof toResultDocument>;

const validate = new Ajv({ allErrors: false, strict: true }).compile(schema);

/** Null when `doc` has the shape of result.schema.json, else what is wrong, in one line. */
export function schemaProblem(doc: unknown): string | null {
  if (validate(doc)) return null;
  const error = validate.errors![0]!;
  return `${error.instancePath || '(top level)'} ${error.message}${error.params && 'additionalProperty' in error.params ? ` (${String(error.params.additionalProperty)})` : ''}`;
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
  const problem = schemaProblem(doc);
  if (problem) throw new SetupError(`${path} is not a valid result.json: ${problem}`);
  return doc;
}
