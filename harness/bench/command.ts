// `npm run bench`: the numbers of BENCHMARKS.md. Never two loads at once;
// comparisons are interleaved rounds reported as medians with min–max.
//   server-cost    ours against a plain server and Node's reusePort: req/s, p99, CPU per request
//   restart-cost   each strategy's restart phases and switchover, from one compare run
//   migrate        tcp_migrate_req 0 against 1: resets per restart in new-connection load
//   ceiling        the harness's load clients against wrk, identity capture on and off
//   scale          1, 2, 4 servers on one port; 10 to 1,000 keep-alive connections
//   soak           N restarts under load in one run, steered then unsteered: fds, processes, harness memory, failures
//   close-race     what a listener close loses: steered, handed over and unsteered (the control), 3 × N restarts each
// Writes reports/bench/bench.json and bench.md; the tables go into BENCHMARKS.md by hand, with the text.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChildRunner, setupReason } from '../child-run.js';
import { spread, type Spread } from '../compare/rows.js';
import { SetupError } from '../errors.js';
import { freePort } from '../runtime/processes.js';
import type { NetCounters } from '../runtime/net-counters.js';
import { STRATEGY_NAMES } from '../strategies/index.js';
import { readResultDocument } from '../result/document.js';
import { renderSvg } from '../view/charts.js';
import { serverCostSpec, soakSpec } from './charts.js';
import { answering, benchNode, hasReusePort, jsonFromChild, pinned, wrk } from './measure.js';
import { restartCost, type RestartCost } from './restart-cost.js';
import { connectionsScale, perConnectionKiB, processesScale } from './scale.js';
import { serverCost, type CostSummary, type ServerUnderTest } from './server-cost.js';
import { soak } from './soak.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DIST = join(ROOT, 'dist', 'harness');
/** One close-race run (close-race.ts prints it). */
interface CloseRaceRun {
  kind: string;
  restarts: number;
  requests: number;
  failed: number;
  socketErrors: string | null;
  slowResponses: number | null;
  maxLatencyMs: number | null;
  counters: NetCounters;
}

const SECTIONS = ['server-cost', 'restart-cost', 'migrate', 'ceiling', 'scale', 'soak', 'close-race'] as const;

const f = (v: number, digits = 0) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sp = (s: Spread | null, digits = 0, unit = '') => (s ? `${f(s.median, digits)}${unit} (${f(s.min, digits)}–${f(s.max, digits)})` : '–');
const table = (headers: string[], rows: string[][]) => [`| ${headers.join(' | ')} |`, `|${headers.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', default: SECTIONS.join(',') },
      rounds: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '4' },
      'extra-server': { type: 'string', multiple: true, default: [] },
      'soak-restarts': { type: 'string', default: '500' },
      'report-dir': { type: 'string', default: 'reports/bench' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`Usage: npm run bench -- [--only ${SECTIONS.join(',')}] [--rounds N] [--seconds S] [--extra-server NAME=path/to/server/main.js] [--soak-restarts N]`);
    return 0;
  }
  const only = values.only.split(',');
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length) throw new SetupError(`--only: unknown '${unknown.join(',')}'; choose from ${SECTIONS.join(', ')}`);
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const soakRestarts = Number(values['soak-restarts']);
  if (!(Number.isInteger(rounds) && rounds >= 1 && seconds >= 1)) throw new SetupError('--rounds needs a whole number >= 1 and --seconds a number >= 1');
  if (!(Number.isInteger(soakRestarts) && soakRestarts >= 1 && soakRestarts <= 1000)) throw new SetupError('--soak-restarts (restarts of soak and close-race) needs a whole number from 1 to 1000');
  const dir = values['report-dir'];
  mkdirSync(dir, { recursive: true });
  const node = await benchNode();
  const ours = join(ROOT, 'dist', 'server', 'main.js');
  const plain = join(DIST, 'bench', 'plain-server.js');
  const out: Record<string, unknown> = {
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    node: node.version,
    command: `npm run bench -- ${argv.join(' ')}`.trim(),
    startedAt: new Date().toISOString(),
  };
  const md: string[] = [`Machine: ${cpus().length} cores (${cpus()[0]?.model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}; servers on Node ${node.version}. Command: \`${out.command}\`.`, ''];

  if (only.includes('server-cost')) {
    const extra = values['extra-server'].map((spec) => {
      const [name, script] = spec.split('=');
      if (!name || !script) throw new SetupError(`--extra-server needs NAME=path/to/main.js, got '${spec}'`);
      return { name, script: resolve(script) };
    });
    const servers: ServerUnderTest[] = [{ name: 'reuseport-lab', script: ours }, ...extra, { name: 'plain http.createServer', script: plain }];
    if (hasReusePort(node.version)) servers.push({ name: "Node's listen({ reusePort: true })", script: plain, env: { REUSE_PORT: '1' } });
    else say(`Node ${node.version} has no listen({ reusePort }): that row is left out`);
    const summary: CostSummary[] = await serverCost(node.path, servers, { rounds, seconds, connections: 50, onProgress: say });
    out.serverCost = summary;
    writeFileSync(join(dir, 'server-cost.svg'), await renderSvg(serverCostSpec(summary)));
    md.push(
      '### Server cost',
      '',
      table(
        ['server', 'keep-alive req/s', 'p99', 'CPU per request (user + system)', 'user CPU per request', 'against reuseport-lab: CPU / user CPU', 'new connection per request: conn/s', 'CPU per request', 'against reuseport-lab'],
        summary.map((s) => [
          s.name,
          sp(s.keepalivePerSecond),
          sp(s.keepaliveP99Ms, 2, ' ms'),
          sp(s.keepaliveCpu, 2, ' µs'),
          sp(s.keepaliveUser, 2, ' µs'),
          s.efficiencyOfFirst && s.userEfficiencyOfFirst ? `${sp(s.efficiencyOfFirst, 2, '×')} / ${sp(s.userEfficiencyOfFirst, 2, '×')}` : '–',
          sp(s.churnPerSecond),
          sp(s.churnCpu, 2, ' µs'),
          sp(s.churnEfficiencyOfFirst, 2, '×'),
        ]),
      ),
      '',
      `${rounds} interleaved rounds of ${seconds} s per server and mode; server on core 1, wrk (1 thread, 50 connections) on core 0. The "against" column is, per round, this server's CPU per request over reuseport-lab's (all CPU, then user CPU alone): below 1, reuseport-lab spends more; reuseport-lab is "as efficient" as that ratio.`,
      '',
    );
  }

  const runner = new ChildRunner();
  if (only.includes('restart-cost')) {
    const reportDir = join(dir, 'restart-cost');
    say('restart-cost: npm run compare (every strategy, 5 restarts each)...');
    const run = await runner.run(join(DIST, 'compare', 'main.js'), ['--restarts', '5', '--interval', '3', '--report-dir', reportDir], ROOT);
    if (run.code !== 0) throw new SetupError(`the compare run for restart-cost failed: ${setupReason(run.stderr)}`);
    const costs: RestartCost[] = STRATEGY_NAMES.map((s) => restartCost(s, readResultDocument(join(reportDir, s, 'result.json'))));
    out.restartCost = costs;
    md.push(
      '### Restart cost per strategy',
      '',
      table(
        ['strategy', 'restarts', 'trigger → new ready', 'SIGTERM → old\'s last answer', 'SIGTERM → old gone', 'answered in the switchover vs steady', 'switchover p99 / steady p99', 'switchover max / steady p99'],
        costs.map((c) => [c.strategy, String(c.restarts), sp(c.readyMs, 0, ' ms'), sp(c.lastOldAnswerMs, 0, ' ms'), sp(c.oldGoneMs, 0, ' ms'), sp(c.answeredShare, 2, '×'), sp(c.p99OverSteady, 1, '×'), sp(c.maxOverSteady, 1, '×')]),
      ),
      '',
      'Median (min–max) over the restarts of one `npm run compare -- --restarts 5 --interval 3` run, both load modes together. For systemd-socket the old server is stopped first, so "SIGTERM" is the restart\'s start.',
      '',
    );
  }

  if (only.includes('migrate')) {
    const results: Record<string, number[]> = { '0': [], '1': [] };
    for (let round = 0; round < 2; round++) {
      for (const value of ['0', '1']) {
        const reportDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-bench-migrate-'));
        say(`migrate: round ${round + 1}, tcp_migrate_req=${value}...`);
        const run = await runner.run(join(DIST, 'cli.js'), ['gate', '--image', 'reuseport-lab:local', '--port', '8080', '--restart', '/app/scripts/restart.sh', '--tcp-migrate-req', value, '--load', 'churn', '--restarts', '5', '--interval', '2', '--report-dir', reportDir], ROOT);
        if (run.code === 2) throw new SetupError(`the gate run for migrate failed: ${setupReason(run.stderr)} (build the image first: npm run poc once)`);
        const doc = readResultDocument(join(reportDir, 'result.json'));
        results[value]!.push(...doc.restarts.map((r) => doc.switchovers.find((w) => w.index === r.index)?.stats.failed ?? 0));
      }
    }
    out.migrate = { failedPerRestart: { '0': spread(results['0']!), '1': spread(results['1']!) } };
    md.push(
      '### Why tcp_migrate_req is required',
      '',
      table(
        ['net.ipv4.tcp_migrate_req', 'failed requests per restart, new connection per request'],
        ['0', '1'].map((v) => [v, sp(spread(results[v]!))]),
      ),
      '',
      'Two interleaved gate runs per value of this project\'s image with restart.sh, 5 restarts each, 50 new-connection loops (`reuseport-lab gate --tcp-migrate-req 0|1 --load churn`).',
      '',
    );
  }

  if (only.includes('ceiling')) {
    const port = await freePort();
    const stateDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-bench-'));
    const [cmd, ...args] = pinned(1, [node.path, ours]);
    const server = spawn(cmd!, args, { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', STATE_DIR: stateDir }, stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}/`;
    const rows: Record<string, number[]> = {};
    const add = (name: string, value: number) => (rows[name] ??= []).push(value);
    try {
      await answering(url, server);
      const probe = async (mode: string, identity: string) =>
        (await jsonFromChild<{ perSecond: number }>(pinned(0, [process.execPath, join(DIST, 'bench', 'load-probe.js'), mode, url, '50', String(seconds), identity]))).perSecond;
      for (let round = 0; round < rounds; round++) {
        say(`ceiling: round ${round + 1}/${rounds}`);
        add('wrk, keep-alive', (await wrk(url, { connections: 50, seconds })).perSecond);
        add('harness keep-alive client, identity on', await probe('keepalive', 'on'));
        add('harness keep-alive client, identity off', await probe('keepalive', 'off'));
        add('wrk, new connection per request', (await wrk(url, { connections: 50, seconds, newConnectionPerRequest: true })).perSecond);
        add('harness new-connection client, identity on', await probe('churn', 'on'));
        add("Node's http client, no agent (the harness's client until 2026-12), identity on", await probe('churn-node-http', 'on'));
      }
    } finally {
      server.kill('SIGTERM');
    }
    out.ceiling = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, spread(v)]));
    md.push(
      '### Harness ceiling',
      '',
      table(['load client (core 0) against reuseport-lab (core 1)', 'requests/s'], Object.entries(rows).map(([k, v]) => [k, sp(spread(v))])),
      '',
      `${rounds} interleaved rounds of ${seconds} s, 50 connections each.`,
      '',
    );
  }

  if (only.includes('scale')) {
    say('scale: processes...');
    const processes = await processesScale(node.path, ours, [1, 2, 4], seconds);
    say('scale: connections...');
    const connections = await connectionsScale(node.path, ours, join(DIST, 'bench', 'load-probe.js'), [10, 100, 1000], seconds);
    out.scale = { processes, connections };
    md.push(
      '### Scale on one machine',
      '',
      table(['servers on one port', 'requests/s', 'p99'], processes.map((r) => [String(r.processes), f(r.perSecond), `${f(r.p99Ms, 2)} ms`])),
      '',
      table(['keep-alive connections', 'requests/s', 'p99', 'server peak RSS', 'harness client peak RSS'], connections.map((r) => [f(r.connections), f(r.perSecond), `${f(r.p99Ms, 2)} ms`, `${f(r.serverPeakKiB / 1024, 1)} MiB`, `${f(r.harnessPeakKiB / 1024, 1)} MiB`])),
      '',
      `Per extra connection (slope from ${f(connections[0]!.connections)} to ${f(connections.at(-1)!.connections)}): the server ${f(perConnectionKiB(connections, (r) => r.serverPeakKiB), 1)} KiB, the harness's keep-alive client ${f(perConnectionKiB(connections, (r) => r.harnessPeakKiB), 1)} KiB. One run each, not pinned (servers and wrk share the 2 cores).`,
      '',
    );
  }

  if (only.includes('soak')) {
    // Steered, then the unsteered control: what steering saves shows in the same run.
    const soaks: Record<string, unknown>[] = [];
    for (const steer of [true, false]) {
      const name = steer ? 'steered' : 'unsteered (--steer off)';
      say(`soak, ${name}: npm run poc with ${soakRestarts} restarts, 2 s apart (about ${Math.ceil((soakRestarts * 2) / 60)} min)...`);
      const result = await soak(runner, { pocScript: join(DIST, 'main.js'), cwd: ROOT, restarts: soakRestarts, intervalSeconds: 2, steer, reportDir: join(dir, steer ? 'soak' : 'soak-unsteered'), onProgress: say });
      const { doc } = result;
      const migrated = doc.netCounters.restarts.reduce((sum, r) => sum + r.delta.TCPMigrateReqSuccess, 0);
      soaks.push({ steer, passed: doc.passed, restarts: doc.restarts.length, totalRequests: doc.totalRequests, failedRequests: doc.failedRequests, failuresByCause: doc.failuresByCause, migrated, seconds: result.seconds, series: result.series, samples: result.samples, heapAfterGc: result.heapAfterGc });
      writeFileSync(join(dir, steer ? 'soak.svg' : 'soak-unsteered.svg'), await renderSvg(soakSpec(result.samples, result.heapAfterGc)));
      const causes = Object.entries(doc.failuresByCause).map(([cause, n]) => `${n} ${cause}`).join(', ');
      md.push(
        `### Soak, ${name}`,
        '',
        `${f(doc.restarts.length)} restarts in ${f(result.seconds / 60, 1)} min: ${f(doc.totalRequests)} requests, ${f(doc.failedRequests)} failed${causes ? ` (${causes})` : ''}, TCPMigrateReqSuccess ${f(migrated)} over the restarts; the gate ${doc.passed ? 'passed' : 'FAILED'}${result.code === 130 ? ' (interrupted)' : ''}.`,
        '',
        table(
          ['sampled every 2 s', 'first tenth of the run', 'last tenth', 'largest sample'],
          result.series.map((s) => [s.name, sp(s.firstTenth, 1), sp(s.lastTenth, 1), f(s.max, 1)]),
        ),
        '',
      );
    }
    out.soak = soaks;
    md.push(
      `\`npm run poc -- --restarts ${soakRestarts} --interval 2 --steer on|off\` (both load modes, 50 connections each), watched from outside: the servers' open fds from /proc on the host (PIDs from docker top), the container's processes (docker top), the harness's resident memory (/proc) and its heap after each full collection (\`--trace-gc\`). Median (min–max) of each tenth; the charts are soak.svg and soak-unsteered.svg.`,
      '',
    );
  }

  if (only.includes('close-race')) {
    // Interleaved, so that a slow stretch of the machine hits every kind alike.
    const kinds = ['steered', 'handoff', 'unsteered'] as const;
    const roundsOfRace = 3;
    const runs: CloseRaceRun[] = [];
    for (let round = 0; round < roundsOfRace; round++) {
      for (const kind of kinds) {
        say(`close-race: round ${round + 1}/${roundsOfRace}, ${kind}, ${soakRestarts} restarts...`);
        const argv = [join(ROOT, 'scripts', 'netns-run.sh'), node.path, join(DIST, 'bench', 'close-race.js'), kind, String(soakRestarts)];
        runs.push(
          await jsonFromChild<CloseRaceRun>(argv).catch((error: { exitCode?: number }) => {
            throw error.exitCode === 97 ? new SetupError('close-race needs a private network namespace: run as root') : error;
          }),
        );
      }
    }
    out.closeRace = runs;
    const names: Record<string, string> = { steered: 'reuseport-lab, steer then close', handoff: 'reuseport-lab, socket handed over', unsteered: 'reuseport-lab with DRAIN_STEER=off (the control)' };
    md.push(
      '### What a listener close loses, tcp_migrate_req=1',
      '',
      table(
        ['server', 'restarts', 'requests', 'failed (wrk socket errors)', 'responses ≥ 1 s', 'slowest', 'TCPMigrateReqSuccess', 'OutRsts'],
        runs.map((r) => [names[r.kind] ?? r.kind, f(r.restarts), f(r.requests), `${f(r.failed)}${r.socketErrors ? ` (${r.socketErrors})` : ''}`, r.slowResponses === null ? '–' : f(r.slowResponses), r.maxLatencyMs === null ? '–' : `${f(r.maxLatencyMs)} ms`, f(r.counters.TCPMigrateReqSuccess), f(r.counters.OutRsts)]),
      ),
      '',
      `Back-to-back restarts under \`wrk -c50 -H 'Connection: close'\` in a private network namespace, ${roundsOfRace} interleaved rounds (\`npm run bench -- --only close-race --soak-restarts ${soakRestarts}\`).`,
      '',
    );
  }


  writeFileSync(join(dir, 'bench.json'), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(join(dir, 'bench.md'), `${md.join('\n')}\n`);
  console.log(md.join('\n'));
  return runner.interrupted ? 130 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reuseport-lab bench: ${error instanceof SetupError ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(2);
  },
);
