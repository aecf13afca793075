// `npm run schema`: writes result.schema.json, the JSON Schema of result.json
// for other tools, from its one declaration (record.ts). record.test.ts fails
// when the committed file is not what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';
import { ResultDocumentSchema, schemaJson } from './record.js';

export const SCHEMA_FILE = join(PACKAGE_ROOT, 'harness/result/result.schema.json');

if (process.argv[1]?.endsWith('write-schema.js')) {
  writeFileSync(SCHEMA_FILE, schemaJson(ResultDocumentSchema));
  console.log(`wrote ${SCHEMA_FILE}`);
}
