// `npm run report -- path/to/result.json [--out DIR]`: re-renders report.html,
// summary.md and junit.xml from a saved result.json, without running load.
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { SetupError } from './errors.js';
import { readResultDocument } from './result/document.js';
import { prepareReportDir } from './view/write-report.js';
import { writeReport } from './view/write-report.js';

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { out: { type: 'string' }, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new SetupError(`${(error as Error).message.split('\n')[0]}; usage: npm run report -- path/to/result.json [--out DIR]`);
  }
  if (parsed.values.help) {
    console.log('Usage: npm run report -- path/to/result.json [--out DIR]\nRe-renders report.html, summary.md and junit.xml (default: next to result.json).');
    return 0;
  }
  const [input, ...extra] = parsed.positionals;
  if (!input || extra.length) throw new SetupError('give exactly one result.json; usage: npm run report -- path/to/result.json [--out DIR]');
  const doc = readResultDocument(input);
  const out = parsed.values.out ?? dirname(input);
  prepareReportDir(out);
  for (const file of await writeReport(out, doc, false)) console.log(file);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reuseport-lab report: ${error instanceof SetupError ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(2);
  },
);
