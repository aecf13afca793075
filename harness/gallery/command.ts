// `npm run gallery`: builds every example image (examples/), gates each with
// its own configuration through `reuseport-lab gate`, one after the other,
// and writes one table (gallery.md, gallery.json). Exit codes
// (exit-codes.ts): 0 every example passed, 1 one failed or was inconclusive
// (several fail on purpose: --no-fail exits 0 once every one was judged), 2
// usage error, 4 an example could not be built or started, 130 interrupted
// (the table of the examples judged so far is written).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ChildRunner, childError, didNotRun, setupReason } from '../child-run.js';
import { EXIT } from '../exit-codes.js';
import { numberOption, RANGES } from '../commands/run-options.js';
import { IMAGE_DEFAULTS, REPORT_DIRS, RUN_DEFAULTS } from '../defaults.js';
import { SetupError, TargetError } from '../errors.js';
import { buildImage } from '../runtime/docker/build-image.js';
import { connect, engineAnswers } from '../runtime/docker/engine.js';
import { readResultDocument } from '../result/document.js';
import { EXAMPLES, EXAMPLES_DIR } from './examples.js';
import { galleryRow, type GalleryRow } from './rows.js';
import { PACKAGE_ROOT as ROOT } from '../package-root.js';
import { outcomeOf } from '../verdict.js';
import { count, ms } from '../format.js';

const CLI = join(ROOT, 'dist', 'harness', 'cli.js');

function failedCell(row: GalleryRow, mode: 'keepalive' | 'churn'): string {
  const m = row.failed[mode];
  if (!m) return '–';
  const causes = Object.entries(m.causes)
    .map(([cause, n]) => `${count(n)} ${cause}`)
    .join(', ');
  const perRestart = row.restarts ? (m.failed / row.restarts).toFixed(m.failed % row.restarts ? 1 : 0) : '–';
  return m.failed === 0 ? '0' : `${perRestart} (${causes})`;
}

/** Long requests cut of those written; other failures of the lane in brackets. */
function longCell(row: GalleryRow): string {
  const lane = row.longLane;
  if (!lane) return '–';
  const other = lane.failed - lane.cut;
  return `${count(lane.cut)} of ${count(lane.written)}${other ? ` (${count(other)} other failures)` : ''}`;
}

/** Stream ends that were not graceful, of all ends; numbers lost after them. */
function streamCell(row: GalleryRow): string {
  const stream = row.stream;
  if (!stream) return '–';
  return `${stream.notGraceful} of ${stream.ended} (${stream.kind})${stream.lost ? `, ${count(stream.lost)} lost` : ''}`;
}

export function galleryMarkdown(rows: GalleryRow[], command: string): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| example | restart | failed per restart, keep-alive | failed per restart, new connection | long requests cut | streams ended not gracefully | switchover, median (min–max) | gate |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows
      .map((r) =>
        [
          r.example,
          `\`${r.restart}\``,
          failedCell(r, 'keepalive'),
          failedCell(r, 'churn'),
          longCell(r),
          streamCell(r),
          r.switchoverMs
            ? `${ms(r.switchoverMs.median)} (${Math.round(r.switchoverMs.min)}–${Math.round(r.switchoverMs.max)})`
            : '– (no identity)',
          r.passed
            ? 'passed'
            : r.inconclusive
              ? 'inconclusive: the load generator fell behind'
              : `failed: ${r.failedChecks.join(', ')}`,
        ]
          .map(cell)
          .join(' | '),
      )
      .map((line) => `| ${line} |`),
    '',
    `Reproduce: \`${command}\``,
    '',
  ].join('\n');
}

export function galleryCommand(): Command {
  return new Command('gallery')
    .description('build each example of examples/ and gate it with its gate.json; one table (gallery.md, gallery.json)')
    .addOption(new Option('--examples <list>', 'comma-separated').default(EXAMPLES.map((e) => e.name).join(',')))
    .addOption(new Option('--restarts <n>', 'restarts per example').default(RUN_DEFAULTS.restarts))
    .option('--skip-build', 'use the existing images')
    .addOption(
      new Option('--report-dir <dir>', "where the table and each example's report go").default(REPORT_DIRS.gallery),
    )
    .option(
      '--rate <n>',
      'requests per second per mode, the same for every example (default: each run calibrates its own share of capacity)',
    )
    .option('--no-fail', 'exit 0 once every example was judged, even when one failed (default: exit 1 then)')
    .action(async (_options, command: Command) => {
      process.exitCode = await runGallery(command.opts());
    });
}

async function runGallery(values: Record<string, unknown>): Promise<number> {
  const names = String(values.examples)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !EXAMPLES.some((e) => e.name === n));
  if (unknown.length || !names.length)
    throw new SetupError(
      `--examples: unknown '${unknown.join(',')}'; choose from ${EXAMPLES.map((e) => e.name).join(', ')}`,
    );
  const restarts = numberOption('--restarts', values.restarts, { min: 1, max: 100, whole: true });
  const rate = values.rate === undefined ? null : numberOption('--rate', values.rate, RANGES.rate);
  const reportDir = String(values.reportDir);
  const chosen = EXAMPLES.filter((e) => names.includes(e.name));

  const docker = connect();
  if (!(await engineAnswers(docker)))
    throw new TargetError(
      'the gallery needs a Docker engine and none answers; start Docker (or run scripts/setup/docker-engine.sh as root on Debian)',
    );
  mkdirSync(reportDir, { recursive: true });
  const runner = new ChildRunner();
  const built = new Set<string>();
  const rows: GalleryRow[] = [];
  for (const [i, example] of chosen.entries()) {
    if (runner.interrupted) break;
    process.stdout.write(`[${i + 1}/${chosen.length}] ${example.name}: `);
    if (values.skipBuild !== true && !built.has(example.image)) {
      process.stdout.write('building... ');
      const build = example.build;
      await buildImage(
        docker,
        'project' in build
          ? { contextDir: ROOT, image: example.image, nodeVersion: IMAGE_DEFAULTS.nodeVersion }
          : {
              contextDir: EXAMPLES_DIR(ROOT),
              dockerfile: build.dockerfile,
              target: 'example',
              image: example.image,
              nodeVersion: example.nodeVersion ?? IMAGE_DEFAULTS.nodeVersion,
            },
      );
      built.add(example.image);
    }
    process.stdout.write('gating... ');
    const dir = join(reportDir, example.name);
    const outcome = await runner.run(
      CLI,
      [
        'gate',
        '--config',
        join(ROOT, example.config),
        '--restarts',
        String(restarts),
        ...(rate === null ? [] : ['--rate', String(rate)]),
        '--report-dir',
        dir,
      ],
      process.cwd(),
    );
    if (didNotRun(outcome.code)) {
      process.stdout.write('\n');
      throw childError(outcome.code, `${example.name} could not be gated: ${setupReason(outcome.stderr)}`);
    }
    const doc = readResultDocument(join(dir, 'result.json'));
    rows.push(galleryRow(example.name, doc));
    process.stdout.write(`${outcomeOf(doc)}, ${doc.failedRequests} of ${doc.totalRequests} failed\n`);
  }
  const command = `npm run gallery -- --restarts ${restarts}${rate === null ? '' : ` --rate ${rate}`}${chosen.length < EXAMPLES.length ? ` --examples ${names.join(',')}` : ''}`;
  const markdown = galleryMarkdown(rows, command);
  writeFileSync(join(reportDir, 'gallery.md'), markdown);
  writeFileSync(join(reportDir, 'gallery.json'), `${JSON.stringify({ command, rows }, null, 2)}\n`);
  console.log(`\n${markdown}`);
  if (runner.interrupted) {
    process.stderr.write(
      `${runner.interrupted}: stopped after ${rows.length} of ${chosen.length} examples; the table holds those\n`,
    );
    return EXIT.interrupted;
  }
  const failed = rows.filter((row) => !row.passed || row.inconclusive).map((row) => row.example);
  if (failed.length && values.fail !== false) {
    process.stderr.write(`reuseport-lab gallery: not passed: ${failed.join(', ')} (--no-fail exits 0 for a table)\n`);
    return EXIT.failed;
  }
  return EXIT.passed;
}
