// `npm run compare`: every restart strategy under the same load (keep-alive
// and a new connection per request at once), several restarts each, one
// after the other (never two loads at once), then one table: compare.md,
// compare.json and compare.html. Each run is `npm run poc` itself, so every
// figure is one the gate judged; its own report stays in <report-dir>/<strategy>/.
// The fleet designs (swarm-start-first, swarm-stop-first: designs.ts) run on
// request: one stack of 3 replicas behind HAProxy (scripts/swarm/fleet.sh),
// updated by the swarm under `gate --swarm-service`, removed afterwards.
// Exit codes (exit-codes.ts): 0 every run passed, 1 a run failed or was
// inconclusive (with --no-fail: 0 once every run finished), 2 usage error, 4
// a run could not start its target, 130 interrupted (the table of the runs
// that finished is written).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ChildRunner, childError, didNotRun, setupReason } from '../child-run.js';
import { EXIT } from '../exit-codes.js';
import { durationOption, inSeconds, numberOption, RANGES } from '../commands/run-options.js';
import { IMAGE_DEFAULTS, REPORT_DIRS, RUN_DEFAULTS } from '../defaults.js';
import { SetupError } from '../errors.js';
import { STRATEGIES, STRATEGY_NAMES } from '../strategies/index.js';
import { buildImage } from '../runtime/docker/build-image.js';
import { connect } from '../runtime/docker/engine.js';
import { FLEET_SCRIPT, fleetScript } from '../runtime/target/swarm/fleet-script.js';
import { DESIGN_NAMES, type DesignName, FLEET_DESIGNS, isFleet } from './designs.js';
import { readResultDocument, type ResultDocument } from '../result/document.js';
import { compareRows, operationsRows } from './rows.js';
import { compareHtml, compareMarkdown, type CompareFacts } from './render.js';
import { PACKAGE_ROOT as ROOT } from '../package-root.js';
import { outcomeOf } from '../verdict.js';

const CLI = join(ROOT, 'dist', 'harness', 'cli.js');

interface CompareOptions {
  strategies: DesignName[];
  restarts: number;
  intervalSeconds: number;
  connections: number;
  image: string;
  skipBuild: boolean;
  reportDir: string;
  /** Exit 0 once every run finished, whatever the gate said of each. */
  noFail: boolean;
  /** Requests per second per mode for every run; null: each run calibrates its own. */
  rate: number | null;
}

export function compareCommand(): Command {
  return new Command('compare')
    .description(
      'run every restart strategy under the same load in Docker, one after the other, and write one table (compare.md, compare.json, compare.html)',
    )
    .addOption(
      new Option(
        '--strategies <list>',
        `comma-separated; the fleet designs (${Object.keys(FLEET_DESIGNS).join(', ')}) need swarm mode and run on request`,
      ).default(STRATEGY_NAMES.join(',')),
    )
    .addOption(new Option('--restarts <n>', 'restarts per strategy').default(RUN_DEFAULTS.restarts))
    .addOption(new Option('--interval <duration>', inSeconds('between restarts')).default(RUN_DEFAULTS.intervalSeconds))
    .addOption(new Option('--connections <n>', 'per load mode').default(RUN_DEFAULTS.connections))
    .option(
      '--rate <n>',
      'requests per second per mode, the same for every strategy (default: each run calibrates its own share of capacity)',
    )
    .addOption(new Option('--image <name>', 'image tag to build and run').default(IMAGE_DEFAULTS.image))
    .option('--skip-build', 'use the existing images')
    .addOption(
      new Option('--report-dir <dir>', "where the table and each run's report go").default(REPORT_DIRS.compare),
    )
    .option('--no-fail', 'exit 0 once every run finished, even when a strategy failed (default: exit 1 then)')
    .action(async (_options, command: Command) => {
      process.exitCode = await runCompare(resolveCompareOptions(command.opts()));
    });
}

function resolveCompareOptions(o: Record<string, unknown>): CompareOptions {
  const strategies = String(o.strategies)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = strategies.filter((s) => !(DESIGN_NAMES as string[]).includes(s));
  if (unknown.length || strategies.length === 0)
    throw new SetupError(`--strategies: unknown '${unknown.join(',')}'; choose from ${DESIGN_NAMES.join(', ')}`);
  return {
    strategies: [...new Set(strategies)] as DesignName[],
    restarts: numberOption('--restarts', o.restarts, { min: 1, max: 100, whole: true }),
    intervalSeconds: durationOption('--interval', o.interval, 's', { min: 1, max: 600 }),
    connections: numberOption('--connections', o.connections, { min: 1, max: 1000, whole: true }),
    image: String(o.image),
    skipBuild: o.skipBuild === true,
    reportDir: String(o.reportDir),
    noFail: o.fail === false,
    rate: o.rate === undefined ? null : numberOption('--rate', o.rate, RANGES.rate),
  };
}

async function runCompare(options: CompareOptions): Promise<number> {
  mkdirSync(options.reportDir, { recursive: true });
  const runner = new ChildRunner();

  const started = Date.now();
  const built = new Set<string>();
  const runs: { strategy: DesignName; doc: ResultDocument }[] = [];
  const fleet = new ComparedFleet(options);
  try {
    for (const [i, strategy] of options.strategies.entries()) {
      if (runner.interrupted) break;
      const dir = join(options.reportDir, strategy);
      const load = [
        '--load',
        'both',
        '--restarts',
        String(options.restarts),
        '--interval',
        String(options.intervalSeconds),
        '--connections',
        String(options.connections),
        ...(options.rate === null ? [] : ['--rate', String(options.rate)]),
        '--report-dir',
        dir,
      ];
      let args: string[];
      if (isFleet(strategy)) {
        const { service, url } = await fleet.up();
        args = [
          'gate',
          '--swarm-service',
          service,
          '--url',
          url,
          '--restart',
          `docker service update --force --quiet --update-order ${FLEET_DESIGNS[strategy].order} ${service}`,
          '--restart-timeout',
          '180',
          ...load,
        ];
      } else {
        const target = STRATEGIES[strategy].image;
        args = ['poc', '--runtime', 'docker', '--strategy', strategy, ...load, '--image', options.image];
        if (options.skipBuild || built.has(target)) args.push('--skip-build');
        built.add(target);
      }
      process.stdout.write(`[${i + 1}/${options.strategies.length}] ${strategy}... `);
      const t0 = Date.now();
      const outcome = await runner.run(CLI, args, process.cwd());
      if (didNotRun(outcome.code)) {
        process.stdout.write('\n');
        throw childError(outcome.code, `the ${strategy} run could not run: ${setupReason(outcome.stderr)}`);
      }
      let doc: ResultDocument;
      try {
        doc = readResultDocument(join(dir, 'result.json'));
      } catch (error) {
        throw new SetupError(
          `the ${strategy} run left no readable result.json (exit ${outcome.code}): ${(error as Error).message}`,
        );
      }
      runs.push({ strategy, doc });
      process.stdout.write(
        `${outcomeOf(doc)}, ${doc.failedRequests} of ${doc.totalRequests} failed (${Math.round((Date.now() - t0) / 1000)} s)\n`,
      );
    }
  } finally {
    fleet.down();
  }

  const first = runs[0]?.doc;
  const facts: CompareFacts = {
    command: `npm run compare -- --restarts ${options.restarts} --interval ${options.intervalSeconds}${options.rate === null ? '' : ` --rate ${options.rate}`}${options.strategies.join(',') === STRATEGY_NAMES.join(',') ? '' : ` --strategies ${options.strategies.join(',')}`}`,
    restarts: options.restarts,
    intervalSeconds: options.intervalSeconds,
    load: first?.parameters.loadDescription ?? 'no load (no run finished)',
    runtime: `Docker, Node ${runs.find((r) => r.doc.runtime.facts.node)?.doc.runtime.facts.node ?? '?'} in the images, kernel ${release()}`,
    machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
  };
  const rows = compareRows(runs);
  const operations = operationsRows(
    runs.map((r) => r.strategy),
    ROOT,
  );
  const markdown = compareMarkdown(rows, operations, facts);
  writeFileSync(join(options.reportDir, 'compare.md'), markdown);
  writeFileSync(join(options.reportDir, 'compare.json'), `${JSON.stringify({ facts, rows, operations }, null, 2)}\n`);
  writeFileSync(join(options.reportDir, 'compare.html'), await compareHtml(rows, operations, facts, runs));
  console.log(`\n${markdown}`);
  console.log(
    `written: ${['compare.md', 'compare.json', 'compare.html'].map((f) => join(options.reportDir, f)).join(', ')}`,
  );
  if (runner.interrupted) {
    process.stderr.write(
      `${runner.interrupted}: stopped after ${runs.length} of ${options.strategies.length} strategies; the table holds those\n`,
    );
    return EXIT.interrupted;
  }
  const failed = runs.filter((r) => outcomeOf(r.doc) !== 'passed').map((r) => r.strategy);
  if (failed.length && !options.noFail) {
    process.stderr.write(`reuseport-lab compare: not passed: ${failed.join(', ')} (--no-fail exits 0 for a table)\n`);
    return EXIT.failed;
  }
  return EXIT.passed;
}

/**
 * The fleet the swarm designs share: 3 replicas of the compared image behind
 * HAProxy, made on first use and removed at the end (also after a failure).
 */
class ComparedFleet {
  private made?: { service: string; url: string };
  /** Set once `up` ran: a stack half made by a failed `up` is removed too. */
  private tried = false;
  private static readonly STACK = 'rplabcompare';

  constructor(private readonly options: CompareOptions) {}

  async up(): Promise<{ service: string; url: string }> {
    if (this.made) return this.made;
    if (!this.options.skipBuild)
      await buildImage(connect(), { contextDir: ROOT, image: this.options.image, nodeVersion: '24' });
    this.tried = true;
    const said = fleetScript(['up', ComparedFleet.STACK], { IMAGE: this.options.image, REPLICAS: '3' });
    if (!said.url || !said.service) throw new SetupError(`fleet.sh up said no url or service: ${JSON.stringify(said)}`);
    this.made = { service: said.service, url: said.url };
    return this.made;
  }

  down(): void {
    if (this.tried) spawnSync('sh', [FLEET_SCRIPT, 'down', ComparedFleet.STACK], { stdio: 'ignore', timeout: 300_000 });
  }
}
