// `reuseport-lab bench` (`npm run bench`): the numbers of BENCHMARKS.md. Never
// two loads at once; comparisons are interleaved rounds reported as medians
// with min–max. The sections (sections.ts), each measured then rendered:
//   server-cost    ours against a plain server and Node's reusePort: req/s, p99, CPU per request
//   restart-cost   each strategy's restart phases and switchover, from one compare run
//   migrate        tcp_migrate_req 0 against 1: resets per restart in new-connection load
//   ceiling        the harness's load clients against wrk, identity capture on and off
//   scale          1, 2, 4 servers on one port; 10 to 1,000 keep-alive connections
//   soak           N restarts under load in one run, steered then unsteered: fds, processes, harness memory, failures
//   close-race     what a listener close loses: steered, handed over and unsteered (the control), 3 × N restarts each
//   fleet          1, 3, 6 replicas on Docker Swarm behind HAProxy: one rolling update per load mode
//   models         the open model against the closed one: machine busy, p99
//   goaway         HTTP/2: a two-phase GOAWAY against one, streams answered, refused and lost over restarts
// Writes reports/bench/bench.json and bench.md; the tables go into BENCHMARKS.md by hand, with the text.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ChildRunner } from '../child-run.js';
import { numberOption } from '../commands/run-options.js';
import { BENCH_DEFAULTS, REPORT_DIRS } from '../defaults.js';
import { SetupError } from '../errors.js';
import { benchNode } from './measure.js';
import { type BenchContext, SECTIONS } from './sections.js';
import { PACKAGE_ROOT as ROOT } from '../package-root.js';

const DIST = join(ROOT, 'dist', 'harness');
const say = (line: string) => process.stderr.write(`${line}\n`);

export function benchCommand(): Command {
  return new Command('bench')
    .description(
      "measure the numbers of BENCHMARKS.md: the server's cost, each restart's cost, the harness's ceiling, scale, soaks",
    )
    .addOption(new Option('--only <sections>', 'comma-separated').default(SECTIONS.map((s) => s.name).join(',')))
    .addOption(new Option('--rounds <n>', 'interleaved rounds per comparison').default(BENCH_DEFAULTS.rounds))
    .addOption(new Option('--seconds <s>', 'length of one measurement').default(BENCH_DEFAULTS.seconds))
    .addOption(
      new Option(
        '--extra-server <NAME=path/to/server/main.js...>',
        'server-cost: another server to measure beside ours',
      ).default([]),
    )
    .addOption(
      new Option('--soak-restarts <n>', 'restarts of the soak and of each close-race run').default(
        BENCH_DEFAULTS.soakRestarts,
      ),
    )
    .addOption(
      new Option('--report-dir <dir>', 'where bench.json, bench.md and the charts go').default(REPORT_DIRS.bench),
    )
    .action(async (_options, command: Command) => {
      process.exitCode = await runBench(command.opts(), process.argv.slice(3));
    });
}

async function runBench(o: Record<string, unknown>, argv: string[]): Promise<number> {
  const only = String(o.only).split(',');
  const unknown = only.filter((name) => !SECTIONS.some((s) => s.name === name));
  if (unknown.length)
    throw new SetupError(
      `--only: unknown '${unknown.join(',')}'; choose from ${SECTIONS.map((s) => s.name).join(', ')}`,
    );
  const extraServers = (o.extraServer as string[]).map((spec) => {
    const [name, script] = spec.split('=');
    if (!name || !script) throw new SetupError(`--extra-server needs NAME=path/to/main.js, got '${spec}'`);
    return { name, script: resolve(script) };
  });
  const dir = String(o.reportDir);
  mkdirSync(dir, { recursive: true });
  const node = await benchNode();
  const ctx: BenchContext = {
    root: ROOT,
    dist: DIST,
    dir,
    node,
    ours: join(ROOT, 'dist', 'server', 'main.js'),
    plain: join(DIST, 'bench', 'plain-server.js'),
    rounds: numberOption('--rounds', o.rounds, { min: 1, max: 100, whole: true }),
    seconds: numberOption('--seconds', o.seconds, { min: 1, max: 600 }),
    soakRestarts: numberOption('--soak-restarts', o.soakRestarts, { min: 1, max: 1000, whole: true }),
    extraServers,
    runner: new ChildRunner(),
    say,
  };
  const command = `npm run bench -- ${argv.join(' ')}`.trim();
  const out: Record<string, unknown> = {
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
    },
    node: node.version,
    command,
    startedAt: new Date().toISOString(),
  };
  const md: string[] = [
    `Machine: ${cpus().length} cores (${cpus()[0]?.model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}; servers on Node ${node.version}. Command: \`${command}\`.`,
    '',
  ];
  for (const section of SECTIONS.filter((s) => only.includes(s.name))) {
    if (ctx.runner.interrupted) break;
    const data = await section.measure(ctx);
    out[section.key] = data;
    md.push(...(await section.render(data, ctx)));
  }
  writeFileSync(join(dir, 'bench.json'), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(join(dir, 'bench.md'), `${md.join('\n')}\n`);
  console.log(md.join('\n'));
  return ctx.runner.interrupted ? 130 : 0;
}
