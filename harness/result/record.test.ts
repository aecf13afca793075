import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ResultDocumentSchema, schemaJson } from './record.js';
import { SCHEMA_FILE } from './write-schema.js';

describe('the result document, declared once', () => {
  it('result.schema.json is what npm run schema writes from record.ts', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8'), 'result.schema.json is stale: run npm run schema').toBe(
      schemaJson(ResultDocumentSchema),
    );
  });
});
