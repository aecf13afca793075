// result.json: the run as data for other tools, in two parts. The record is
// what was measured (run-record.ts); the verdict is what the checks made of it
// (checks/). A saved result.json can be judged again: its record is all the
// checks read. Its shape is declared once, in record.ts (documented in
// docs/result-json.md); an older version is upgraded here.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { SetupError } from '../errors.js';
import {
  RESULT_SCHEMA_VERSION,
  ResultDocumentSchema,
  type ResultDocument,
  type RunRecord,
  type Verdict,
} from './record.js';
import { upgradeV3, upgradeV4, upgradeV5 } from './upgrade.js';

export { RESULT_SCHEMA_VERSION, type ResultDocument, type RunRecord } from './record.js';

/** result.json: the record with its verdict. */
export function toResultDocument(record: RunRecord, verdict: Verdict): ResultDocument {
  const { schemaVersion, answered, failed, failuresByCause, written, inFlightAtStop, interrupted, ...rest } = record;
  return {
    schemaVersion,
    passed: verdict.passed,
    inconclusive: verdict.inconclusive,
    totalRequests: verdict.totalRequests,
    failedRequests: verdict.failedRequests,
    answered,
    failed,
    failuresByCause,
    written,
    inFlightAtStop,
    checks: verdict.checks,
    interrupted,
    ...rest,
  };
}

/** The record a saved document was judged from: the document without its verdict. */
export function recordIn(doc: ResultDocument): RunRecord {
  const {
    passed: _passed,
    inconclusive: _inconclusive,
    totalRequests: _total,
    failedRequests: _failed,
    checks: _checks,
    ...record
  } = doc;
  return record;
}

const validate = new Ajv({ allErrors: false, strict: true }).compile(ResultDocumentSchema);

/** Null when `doc` has the shape of a result document (record.ts), else what is wrong, in one line. */
export function schemaProblem(doc: unknown): string | null {
  if (validate(doc)) return null;
  const error = validate.errors![0]!;
  return `${error.instancePath || '(top level)'} ${error.message}${error.params && 'additionalProperty' in error.params ? ` (${String(error.params.additionalProperty)})` : ''}`;
}

/** Reads a saved result.json, of this version or the one before; throws SetupError if it is not one this version can read. */
export function readResultDocument(path: string): ResultDocument {
  let doc: { schemaVersion?: unknown };
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as { schemaVersion?: unknown };
  } catch (error) {
    throw new SetupError(
      `cannot read ${path} as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass the result.json of a run`,
    );
  }
  const given = doc?.schemaVersion;
  try {
    if (doc?.schemaVersion === 3) doc = upgradeV3(doc as Parameters<typeof upgradeV3>[0]);
    if (doc?.schemaVersion === 4) doc = upgradeV4(doc as Parameters<typeof upgradeV4>[0]);
    if (doc?.schemaVersion === 5) doc = upgradeV5(doc as Parameters<typeof upgradeV5>[0]);
  } catch (error) {
    // An older version read as this one: a file that only says its version has nothing to upgrade.
    throw new SetupError(
      `${path} says schemaVersion ${String(given)} but is not a result.json of that version (${(error as Error).message}); pass the result.json of a run`,
    );
  }
  if (doc?.schemaVersion !== RESULT_SCHEMA_VERSION) {
    throw new SetupError(
      `${path} has schemaVersion ${JSON.stringify(doc?.schemaVersion)}; this version reads ${RESULT_SCHEMA_VERSION}, 5, 4 and 3`,
    );
  }
  const problem = schemaProblem(doc);
  if (problem) throw new SetupError(`${path} is not a valid result.json: ${problem}`);
  return doc as ResultDocument;
}
