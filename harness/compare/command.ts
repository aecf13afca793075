// `npm run compare`: every restart strategy under the same load (keep-alive
// and a new connection per request at once), several restarts each, one
// after the other (never two loads at once), then one table: compare.md,
// compare.json and compare.html. Each run is `npm run poc` itself, so every
// figure is one the gate judged; its own report stays in <report-dir>/<strategy>/.
// Exit codes: 0 every run finished (whatever the gate said), 2 usage or setup
// error, 130 interrupted (the table of the runs that finished is written).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChildRunner, setupReason } from '../child-run.js';
import { SetupError } from '../errors.js';
import { STRATEGIES, STRATEGY_NAMES, type StrategyName } from '../strategies/index.js';
import { readResultDocument, type ResultDocument } from '../result/document.js';
import { compareRows, operationsRows } from './rows.js';
import { compareHtml, compareMarkdown, type CompareFacts } from './render.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const POC = join(ROOT, 'dist', 'harness', 'main.js');

const HELP = `Usage: npm run compare -- [options]

Runs every restart strategy under the same load in Docker, one after the
other, and writes one table (compare.md, compare.json, compare.html).

  --strategies LIST   comma-separated (default: ${STRATEGY_NAMES.join(',')})
  --restarts N        restarts per strategy (default: 3)
  --interval SECONDS  between restarts (default: 3)
  --connections N     per load mode (default: 50)
  --image NAME        image tag to build and run (default: reuseport-lab:local)
  --skip-build        use the existing images
  --report-dir DIR    where the table and each run's report go (default: reports/compare)
  --help              show this help`;

interface CompareOptions {
  strategies: StrategyName[];
  restarts: number;
  intervalSeconds: number;
  connections: number;
  image: string;
  skipBuild: boolean;
  reportDir: string;
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new SetupError(`${flag} needs a whole number from ${min} to ${max}, got '${text}'`);
  return value;
}

export function parseCompareOptions(argv: string[]): CompareOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        strategies: { type: 'string', default: STRATEGY_NAMES.join(',') },
        restarts: { type: 'string', default: '3' },
        interval: { type: 'string', default: '3' },
        connections: { type: 'string', default: '50' },
        image: { type: 'string', default: 'reuseport-lab:local' },
        'skip-build': { type: 'boolean', default: false },
        'report-dir': { type: 'string', default: 'reports/compare' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw new SetupError(`${(error as Error).message}; see --help`);
  }
  if (parsed.help) return 'help';
  const strategies = parsed.strategies.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = strategies.filter((s) => !(s in STRATEGIES));
  if (unknown.length || strategies.length === 0) throw new SetupError(`--strategies: unknown '${unknown.join(',')}'; choose from ${STRATEGY_NAMES.join(', ')}`);
  const interval = Number(parsed.interval);
  if (!(interval >= 1 && interval <= 600)) throw new SetupError(`--interval needs seconds from 1 to 600, got '${parsed.interval}'`);
  return {
    strategies: [...new Set(strategies)] as StrategyName[],
    restarts: wholeNumber('--restarts', parsed.restarts, 1, 100),
    intervalSeconds: interval,
    connections: wholeNumber('--connections', parsed.connections, 1, 1000),
    image: parsed.image,
    skipBuild: parsed['skip-build'],
    reportDir: parsed['report-dir'],
  };
}

async function main(argv: string[]): Promise<number> {
  const options = parseCompareOptions(argv);
  if (options === 'help') {
    console.log(HELP);
    return 0;
  }
  mkdirSync(options.reportDir, { recursive: true });
  const runner = new ChildRunner();

  const started = Date.now();
  const built = new Set<string>();
  const runs: { strategy: StrategyName; doc: ResultDocument }[] = [];
  for (const [i, strategy] of options.strategies.entries()) {
    if (runner.interrupted) break;
    const target = STRATEGIES[strategy].image;
    const dir = join(options.reportDir, strategy);
    const args = ['--runtime', 'docker', '--strategy', strategy, '--load', 'both', '--restarts', String(options.restarts), '--interval', String(options.intervalSeconds), '--connections', String(options.connections), '--image', options.image, '--report-dir', dir];
    if (options.skipBuild || built.has(target)) args.push('--skip-build');
    process.stdout.write(`[${i + 1}/${options.strategies.length}] ${strategy}... `);
    const t0 = Date.now();
    const outcome = await runner.run(POC, args, ROOT);
    if (outcome.code === 2) {
      process.stdout.write('\n');
      throw new SetupError(`the ${strategy} run could not run: ${setupReason(outcome.stderr)}`);
    }
    built.add(target);
    let doc: ResultDocument;
    try {
      doc = readResultDocument(join(dir, 'result.json'));
    } catch (error) {
      throw new SetupError(`the ${strategy} run left no readable result.json (exit ${outcome.code}): ${(error as Error).message}`);
    }
    runs.push({ strategy, doc });
    process.stdout.write(`${doc.passed ? 'passed' : 'failed'}, ${doc.failedRequests} of ${doc.totalRequests} failed (${Math.round((Date.now() - t0) / 1000)} s)\n`);
  }

  const first = runs[0]?.doc;
  const facts: CompareFacts = {
    command: `npm run compare -- --restarts ${options.restarts} --interval ${options.intervalSeconds}${options.strategies.length < STRATEGY_NAMES.length ? ` --strategies ${options.strategies.join(',')}` : ''}`,
    restarts: options.restarts,
    intervalSeconds: options.intervalSeconds,
    load: first?.parameters.loadDescription ?? 'no load (no run finished)',
    runtime: `Docker, Node ${first?.runtime.facts.node ?? '?'} in the images, kernel ${release()}`,
    machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
  };
  const rows = compareRows(runs);
  const operations = operationsRows(runs.map((r) => r.strategy), ROOT);
  const markdown = compareMarkdown(rows, operations, facts);
  writeFileSync(join(options.reportDir, 'compare.md'), markdown);
  writeFileSync(join(options.reportDir, 'compare.json'), `${JSON.stringify({ facts, rows, operations }, null, 2)}\n`);
  writeFileSync(join(options.reportDir, 'compare.html'), await compareHtml(rows, operations, facts, runs));
  console.log(`\n${markdown}`);
  console.log(`written: ${['compare.md', 'compare.json', 'compare.html'].map((f) => join(options.reportDir, f)).join(', ')}`);
  if (runner.interrupted) {
    process.stderr.write(`${runner.interrupted}: stopped after ${runs.length} of ${options.strategies.length} strategies; the table holds those\n`);
    return 130;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reuseport-lab compare: ${error instanceof SetupError ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(2);
  },
);
