// `npm run gallery`: builds every example image (examples/), gates each with
// its own configuration through `reuseport-lab gate`, one after the other,
// and writes one table (gallery.md, gallery.json). Exit codes: 0 every
// example was judged (whatever the gate said), 2 usage or setup error, 130
// interrupted (the table of the examples judged so far is written).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChildRunner, setupReason } from '../child-run.js';
import { SetupError } from '../errors.js';
import { buildImage } from '../runtime/docker/build-image.js';
import { connect, engineAnswers } from '../runtime/docker/engine.js';
import { readResultDocument } from '../result/document.js';
import { EXAMPLES, EXAMPLES_DIR } from './examples.js';
import { galleryRow, type GalleryRow } from './rows.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(ROOT, 'dist', 'harness', 'cli.js');

const HELP = `Usage: npm run gallery -- [options]

Builds each example of examples/ and gates it with its gate.json.

  --examples LIST     comma-separated (default: ${EXAMPLES.map((e) => e.name).join(',')})
  --restarts N        restarts per example (default: 3)
  --skip-build        use the existing images
  --report-dir DIR    where the table and each example's report go (default: reports/gallery)
  --help              show this help`;

const count = (n: number) => n.toLocaleString('en-US');

function failedCell(row: GalleryRow, mode: 'keepalive' | 'churn'): string {
  const m = row.failed[mode];
  if (!m) return '–';
  const causes = Object.entries(m.causes).map(([cause, n]) => `${count(n)} ${cause}`).join(', ');
  const perRestart = row.restarts ? (m.failed / row.restarts).toFixed(m.failed % row.restarts ? 1 : 0) : '–';
  return m.failed === 0 ? '0' : `${perRestart} (${causes})`;
}

export function galleryMarkdown(rows: GalleryRow[], command: string): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const ms = (v: number) => `${Math.round(v).toLocaleString('en-US')} ms`;
  return [
    '| example | restart | failed per restart, keep-alive | failed per restart, new connection | switchover, median (min–max) | gate |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) =>
      [
        r.example,
        `\`${r.restart}\``,
        failedCell(r, 'keepalive'),
        failedCell(r, 'churn'),
        r.switchoverMs ? `${ms(r.switchoverMs.median)} (${Math.round(r.switchoverMs.min)}–${Math.round(r.switchoverMs.max)})` : '– (no identity)',
        r.passed ? 'passed' : `failed: ${r.failedChecks.join(', ')}`,
      ]
        .map(cell)
        .join(' | '),
    ).map((line) => `| ${line} |`),
    '',
    `Reproduce: \`${command}\``,
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        examples: { type: 'string', default: EXAMPLES.map((e) => e.name).join(',') },
        restarts: { type: 'string', default: '3' },
        'skip-build': { type: 'boolean', default: false },
        'report-dir': { type: 'string', default: 'reports/gallery' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw new SetupError(`${(error as Error).message}; see --help`);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const names = values.examples.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !EXAMPLES.some((e) => e.name === n));
  if (unknown.length || !names.length) throw new SetupError(`--examples: unknown '${unknown.join(',')}'; choose from ${EXAMPLES.map((e) => e.name).join(', ')}`);
  const restarts = Number(values.restarts);
  if (!Number.isInteger(restarts) || restarts < 1 || restarts > 100) throw new SetupError(`--restarts needs a whole number from 1 to 100, got '${values.restarts}'`);
  const chosen = EXAMPLES.filter((e) => names.includes(e.name));

  const docker = connect();
  if (!(await engineAnswers(docker))) throw new SetupError('the gallery needs a Docker engine and none answers; start Docker (or run scripts/setup/docker-engine.sh as root on Debian)');
  mkdirSync(values['report-dir'], { recursive: true });
  const runner = new ChildRunner();
  const built = new Set<string>();
  const rows: GalleryRow[] = [];
  for (const [i, example] of chosen.entries()) {
    if (runner.interrupted) break;
    process.stdout.write(`[${i + 1}/${chosen.length}] ${example.name}: `);
    if (!values['skip-build'] && !built.has(example.image)) {
      process.stdout.write('building... ');
      const build = example.build;
      await buildImage(docker, 'project' in build ? { contextDir: ROOT, image: example.image, nodeVersion: '24' } : { contextDir: EXAMPLES_DIR(ROOT), dockerfile: build.dockerfile, target: 'example', image: example.image, nodeVersion: '24' });
      built.add(example.image);
    }
    process.stdout.write('gating... ');
    const dir = join(values['report-dir'], example.name);
    const outcome = await runner.run(CLI, ['gate', '--config', join(ROOT, example.config), '--restarts', String(restarts), '--report-dir', dir], ROOT);
    if (outcome.code === 2) {
      process.stdout.write('\n');
      throw new SetupError(`${example.name} could not be gated: ${setupReason(outcome.stderr)}`);
    }
    const doc = readResultDocument(join(dir, 'result.json'));
    rows.push(galleryRow(example.name, doc));
    process.stdout.write(`${doc.passed ? 'passed' : 'failed'}, ${doc.failedRequests} of ${doc.totalRequests} failed\n`);
  }
  const command = `npm run gallery -- --restarts ${restarts}${chosen.length < EXAMPLES.length ? ` --examples ${names.join(',')}` : ''}`;
  const markdown = galleryMarkdown(rows, command);
  writeFileSync(join(values['report-dir'], 'gallery.md'), markdown);
  writeFileSync(join(values['report-dir'], 'gallery.json'), `${JSON.stringify({ command, rows }, null, 2)}\n`);
  console.log(`\n${markdown}`);
  if (runner.interrupted) {
    process.stderr.write(`${runner.interrupted}: stopped after ${rows.length} of ${chosen.length} examples; the table holds those\n`);
    return 130;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reuseport-lab gallery: ${error instanceof SetupError ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(2);
  },
);
