// The benchmark sections of `reuseport-lab bench`: each measures, then
// renders its table from what it measured (what bench.json holds), so a
// section can be rendered again, read alone, or left out with --only.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildRunner, didNotRun, setupReason } from '../child-run.js';
import { spread, type Spread } from '../compare/rows.js';
import { SetupError } from '../errors.js';
import { causesText } from '../load/recorder.js';
import { readResultDocument } from '../result/document.js';
import type { NetCounters } from '../runtime/net-counters.js';
import { freePort } from '../runtime/processes.js';
import { STRATEGY_NAMES } from '../strategies/index.js';
import { renderSvg } from '../view/charts.js';
import { serverCostSpec, soakSpec } from './charts.js';
import { answering, hasReusePort, jsonFromChild, pinned, wrk } from './measure.js';
import { restartCost, type RestartCost } from './restart-cost.js';
import { connectionsScale, perConnectionKiB, processesScale } from './scale.js';
import { fleetScale, type FleetRow } from './fleet.js';
import { buildImage } from '../runtime/docker/build-image.js';
import { connect, engineAnswers } from '../runtime/docker/engine.js';
import { IMAGE_DEFAULTS } from '../defaults.js';
import { serverCost, type CostSummary, type ServerUnderTest } from './server-cost.js';
import { soak, type SoakResult } from './soak.js';
import { compareModels, type ModelRun, renderModels } from './load-models.js';
import { compareGoaway, type GoawaySample, summariseGoaway } from './goaway.js';
import { fixed as f, spreadText as sp } from '../format.js';

/** What every section may use: the settings of the run, where things are, and how to speak. */
export interface BenchContext {
  root: string;
  /** dist/harness */
  dist: string;
  dir: string;
  node: { path: string; version: string };
  /** Our server's and a plain server's scripts. */
  ours: string;
  plain: string;
  rounds: number;
  seconds: number;
  soakRestarts: number;
  extraServers: { name: string; script: string }[];
  runner: ChildRunner;
  say: (line: string) => void;
}

export interface Section<T> {
  /** Its name for --only. */
  name: string;
  /** Its key in bench.json. */
  key: string;
  measure: (ctx: BenchContext) => Promise<T>;
  /** Markdown lines; charts are written beside bench.md. */
  render: (data: T, ctx: BenchContext) => Promise<string[]> | string[];
}

const table = (headers: string[], rows: string[][]) =>
  [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

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

const serverCostSection: Section<CostSummary[]> = {
  name: 'server-cost',
  key: 'serverCost',
  async measure({ node, ours, plain, extraServers, rounds, seconds, say }) {
    const servers: ServerUnderTest[] = [
      { name: 'reuseport-lab', script: ours },
      ...extraServers,
      { name: 'plain http.createServer', script: plain },
    ];
    if (hasReusePort(node.version))
      servers.push({ name: "Node's listen({ reusePort: true })", script: plain, env: { REUSE_PORT: '1' } });
    else say(`Node ${node.version} has no listen({ reusePort }): that row is left out`);
    return serverCost(node.path, servers, { rounds, seconds, connections: 50, onProgress: say });
  },
  async render(summary, { dir, rounds, seconds }) {
    writeFileSync(join(dir, 'server-cost.svg'), await renderSvg(serverCostSpec(summary)));
    return [
      '### Server cost',
      '',
      table(
        [
          'server',
          'keep-alive req/s',
          'p99',
          'CPU per request (user + system)',
          'user CPU per request',
          'against reuseport-lab: CPU / user CPU',
          'new connection per request: conn/s',
          'CPU per request',
          'against reuseport-lab',
        ],
        summary.map((s) => [
          s.name,
          sp(s.keepalivePerSecond),
          sp(s.keepaliveP99Ms, 2, ' ms'),
          sp(s.keepaliveCpu, 2, ' µs'),
          sp(s.keepaliveUser, 2, ' µs'),
          s.efficiencyOfFirst && s.userEfficiencyOfFirst
            ? `${sp(s.efficiencyOfFirst, 2, '×')} / ${sp(s.userEfficiencyOfFirst, 2, '×')}`
            : '–',
          sp(s.churnPerSecond),
          sp(s.churnCpu, 2, ' µs'),
          sp(s.churnEfficiencyOfFirst, 2, '×'),
        ]),
      ),
      '',
      `${rounds} interleaved rounds of ${seconds} s per server and mode; server on core 1, wrk (1 thread, 50 connections) on core 0. The "against" column is, per round, this server's CPU per request over reuseport-lab's (all CPU, then user CPU alone): below 1, reuseport-lab spends more; reuseport-lab is "as efficient" as that ratio.`,
      '',
    ];
  },
};

const restartCostSection: Section<RestartCost[]> = {
  name: 'restart-cost',
  key: 'restartCost',
  async measure({ dir, dist, root, runner, say }) {
    const reportDir = join(dir, 'restart-cost');
    say('restart-cost: npm run compare (every strategy, 5 restarts each)...');
    const run = await runner.run(
      join(dist, 'cli.js'),
      // naive fails by design: the table is what is measured.
      ['compare', '--restarts', '5', '--interval', '3', '--no-fail', '--report-dir', reportDir],
      root,
    );
    if (run.code !== 0) throw new SetupError(`the compare run for restart-cost failed: ${setupReason(run.stderr)}`);
    const costs: RestartCost[] = STRATEGY_NAMES.map((s) =>
      restartCost(s, readResultDocument(join(reportDir, s, 'result.json'))),
    );
    return costs;
  },
  render: (costs) => [
    '### Restart cost per strategy',
    '',
    table(
      [
        'strategy',
        'restarts',
        'trigger → new ready',
        "SIGTERM → old's last answer",
        'SIGTERM → old gone',
        'answered in the switchover vs steady',
        'switchover p99 / steady p99',
        'switchover max / steady p99',
      ],
      costs.map((c) => [
        c.strategy,
        String(c.restarts),
        sp(c.readyMs, 0, ' ms'),
        sp(c.lastOldAnswerMs, 0, ' ms'),
        sp(c.oldGoneMs, 0, ' ms'),
        sp(c.answeredShare, 2, '×'),
        sp(c.p99OverSteady, 1, '×'),
        sp(c.maxOverSteady, 1, '×'),
      ]),
    ),
    '',
    'Median (min–max) over the restarts of one `npm run compare -- --restarts 5 --interval 3` run, both load modes together. For systemd-socket the old server is stopped first, so "SIGTERM" is the restart\'s start.',
    '',
  ],
};

const migrateSection: Section<{ failedPerRestart: Record<'0' | '1', Spread | null> }> = {
  name: 'migrate',
  key: 'migrate',
  async measure({ dist, root, runner, say }) {
    const results: Record<string, number[]> = { '0': [], '1': [] };
    for (let round = 0; round < 2; round++) {
      for (const value of ['0', '1']) {
        const reportDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-bench-migrate-'));
        say(`migrate: round ${round + 1}, tcp_migrate_req=${value}...`);
        const run = await runner.run(
          join(dist, 'cli.js'),
          [
            'gate',
            '--image',
            'reuseport-lab:local',
            '--port',
            '8080',
            '--restart',
            '/app/scripts/restart.sh',
            '--tcp-migrate-req',
            value,
            '--load',
            'churn',
            '--load-model',
            'closed',
            '--restarts',
            '5',
            '--interval',
            '2',
            '--report-dir',
            reportDir,
          ],
          root,
        );
        if (didNotRun(run.code))
          throw new SetupError(
            `the gate run for migrate failed: ${setupReason(run.stderr)} (build the image first: npm run poc once)`,
          );
        const doc = readResultDocument(join(reportDir, 'result.json'));
        results[value]!.push(
          ...doc.restarts.map((r) => doc.switchovers.find((w) => w.index === r.index)?.stats.failed ?? 0),
        );
      }
    }
    return { failedPerRestart: { '0': spread(results['0']!), '1': spread(results['1']!) } };
  },
  render: ({ failedPerRestart }) => [
    '### Why tcp_migrate_req is required',
    '',
    table(
      ['net.ipv4.tcp_migrate_req', 'failed requests per restart, new connection per request'],
      (['0', '1'] as const).map((v) => [v, sp(failedPerRestart[v])]),
    ),
    '',
    "Two interleaved gate runs per value of this project's image with restart.sh, 5 restarts each, 50 new-connection loops (`reuseport-lab gate --tcp-migrate-req 0|1 --load churn`).",
    '',
  ],
};

const ceilingSection: Section<Record<string, Spread | null>> = {
  name: 'ceiling',
  key: 'ceiling',
  async measure({ node, ours, dist, rounds, seconds, say }) {
    const port = await freePort();
    const stateDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-bench-'));
    const [cmd, ...args] = pinned(1, [node.path, ours]);
    const server = spawn(cmd!, args, {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', STATE_DIR: stateDir },
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}/`;
    const rows: Record<string, number[]> = {};
    const add = (name: string, value: number) => (rows[name] ??= []).push(value);
    try {
      await answering(url, server);
      const probe = async (mode: string, identity: string) =>
        (
          await jsonFromChild<{ perSecond: number }>(
            pinned(0, [
              process.execPath,
              join(dist, 'bench', 'load-probe.js'),
              mode,
              url,
              '50',
              String(seconds),
              identity,
            ]),
          )
        ).perSecond;
      for (let round = 0; round < rounds; round++) {
        say(`ceiling: round ${round + 1}/${rounds}`);
        add('wrk, keep-alive', (await wrk(url, { connections: 50, seconds })).perSecond);
        add('harness keep-alive client, identity on', await probe('keepalive', 'on'));
        add('harness keep-alive client, identity off', await probe('keepalive', 'off'));
        add(
          'wrk, new connection per request',
          (await wrk(url, { connections: 50, seconds, newConnectionPerRequest: true })).perSecond,
        );
        add('harness new-connection client, identity on', await probe('churn', 'on'));
        add(
          "Node's http client, no agent (the harness's client until 2026-12), identity on",
          await probe('churn-node-http', 'on'),
        );
      }
    } finally {
      server.kill('SIGTERM');
    }
    return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, spread(v)]));
  },
  render: (rows, { rounds, seconds }) => [
    '### Harness ceiling',
    '',
    table(
      ['load client (core 0) against reuseport-lab (core 1)', 'requests/s'],
      Object.entries(rows).map(([k, v]) => [k, sp(v)]),
    ),
    '',
    `${rounds} interleaved rounds of ${seconds} s, 50 connections each.`,
    '',
  ],
};

const scaleSection: Section<{
  processes: Awaited<ReturnType<typeof processesScale>>;
  connections: Awaited<ReturnType<typeof connectionsScale>>;
}> = {
  name: 'scale',
  key: 'scale',
  async measure({ node, ours, dist, seconds, say }) {
    say('scale: processes...');
    const processes = await processesScale(node.path, ours, [1, 2, 4], seconds);
    say('scale: connections...');
    const connections = await connectionsScale(
      node.path,
      ours,
      join(dist, 'bench', 'load-probe.js'),
      [10, 100, 1000],
      seconds,
    );
    return { processes, connections };
  },
  render: ({ processes, connections }) => [
    '### Scale on one machine',
    '',
    table(
      ['servers on one port', 'requests/s', 'p99'],
      processes.map((r) => [String(r.processes), f(r.perSecond), `${f(r.p99Ms, 2)} ms`]),
    ),
    '',
    table(
      ['keep-alive connections', 'requests/s', 'p99', 'server peak RSS', 'harness client peak RSS'],
      connections.map((r) => [
        f(r.connections),
        f(r.perSecond),
        `${f(r.p99Ms, 2)} ms`,
        `${f(r.serverPeakKiB / 1024, 1)} MiB`,
        `${f(r.harnessPeakKiB / 1024, 1)} MiB`,
      ]),
    ),
    '',
    `Per extra connection (slope from ${f(connections[0]!.connections)} to ${f(connections.at(-1)!.connections)}): the server ${f(
      perConnectionKiB(connections, (r) => r.serverPeakKiB),
      1,
    )} KiB, the harness's keep-alive client ${f(
      perConnectionKiB(connections, (r) => r.harnessPeakKiB),
      1,
    )} KiB. One run each, not pinned (servers and wrk share the 2 cores).`,
    '',
  ],
};

interface SoakRun {
  steer: boolean;
  passed: boolean;
  interrupted: boolean;
  restarts: number;
  totalRequests: number;
  failedRequests: number;
  failuresByCause: Record<string, number | undefined>;
  migrated: number;
  seconds: number;
  series: SoakResult['series'];
  samples: SoakResult['samples'];
  heapAfterGc: SoakResult['heapAfterGc'];
}

const soakSection: Section<SoakRun[]> = {
  name: 'soak',
  key: 'soak',
  async measure({ root, dist, dir, soakRestarts, runner, say }) {
    // Steered, then the unsteered control: what steering saves shows in the same run.
    const runs: SoakRun[] = [];
    for (const steer of [true, false]) {
      say(
        `soak, ${steer ? 'steered' : 'unsteered (--steer off)'}: reuseport-lab poc with ${soakRestarts} restarts, 2 s apart (about ${Math.ceil((soakRestarts * 2) / 60)} min)...`,
      );
      const result = await soak(runner, {
        cli: join(dist, 'cli.js'),
        cwd: root,
        restarts: soakRestarts,
        intervalSeconds: 2,
        steer,
        reportDir: join(dir, steer ? 'soak' : 'soak-unsteered'),
        onProgress: say,
      });
      const { doc } = result;
      const migrated = doc.netCounters.restarts.reduce((sum, r) => sum + r.delta.TCPMigrateReqSuccess, 0);
      runs.push({
        steer,
        passed: doc.passed,
        interrupted: result.code === 130,
        restarts: doc.restarts.length,
        totalRequests: doc.totalRequests,
        failedRequests: doc.failedRequests,
        failuresByCause: doc.failuresByCause,
        migrated,
        seconds: result.seconds,
        series: result.series,
        samples: result.samples,
        heapAfterGc: result.heapAfterGc,
      });
    }
    return runs;
  },
  async render(runs, { dir, soakRestarts }) {
    const md: string[] = [];
    for (const run of runs) {
      writeFileSync(
        join(dir, run.steer ? 'soak.svg' : 'soak-unsteered.svg'),
        await renderSvg(soakSpec(run.samples, run.heapAfterGc)),
      );
      const causes = causesText(run.failuresByCause);
      md.push(
        `### Soak, ${run.steer ? 'steered' : 'unsteered (--steer off)'}`,
        '',
        `${f(run.restarts)} restarts in ${f(run.seconds / 60, 1)} min: ${f(run.totalRequests)} requests, ${f(run.failedRequests)} failed${causes ? ` (${causes})` : ''}, TCPMigrateReqSuccess ${f(run.migrated)} over the restarts; the gate ${run.passed ? 'passed' : 'FAILED'}${run.interrupted ? ' (interrupted)' : ''}.`,
        '',
        table(
          ['sampled every 2 s', 'first tenth of the run', 'last tenth', 'largest sample'],
          run.series.map((s) => [s.name, sp(s.firstTenth, 1), sp(s.lastTenth, 1), f(s.max, 1)]),
        ),
        '',
      );
    }
    md.push(
      `\`reuseport-lab poc --restarts ${soakRestarts} --interval 2 --steer on|off\` (both load modes, 50 connections each), watched from outside: the servers' open fds from /proc on the host (PIDs from docker top), the container's processes (docker top), the harness's resident memory (/proc) and its heap after each full collection (\`--trace-gc\`). Median (min–max) of each tenth; the charts are soak.svg and soak-unsteered.svg.`,
      '',
    );
    return md;
  },
};

/** Interleaved, so that a slow stretch of the machine hits every kind alike. */
const RACE_KINDS = ['steered', 'handoff', 'unsteered'] as const;
const RACE_ROUNDS = 3;
const RACE_NAMES: Record<string, string> = {
  steered: 'reuseport-lab, steer then close',
  handoff: 'reuseport-lab, socket handed over',
  unsteered: 'reuseport-lab with DRAIN_STEER=off (the control)',
};

const closeRaceSection: Section<CloseRaceRun[]> = {
  name: 'close-race',
  key: 'closeRace',
  async measure({ root, dist, node, soakRestarts, say }) {
    const runs: CloseRaceRun[] = [];
    for (let round = 0; round < RACE_ROUNDS; round++) {
      for (const kind of RACE_KINDS) {
        say(`close-race: round ${round + 1}/${RACE_ROUNDS}, ${kind}, ${soakRestarts} restarts...`);
        const argv = [
          join(root, 'scripts', 'netns-run.sh'),
          node.path,
          join(dist, 'bench', 'close-race.js'),
          kind,
          String(soakRestarts),
        ];
        runs.push(
          await jsonFromChild<CloseRaceRun>(argv).catch((error: { exitCode?: number }) => {
            throw error.exitCode === 97
              ? new SetupError('close-race needs a private network namespace: run as root')
              : error;
          }),
        );
      }
    }
    return runs;
  },
  render: (runs, { soakRestarts }) => [
    '### What a listener close loses, tcp_migrate_req=1',
    '',
    table(
      [
        'server',
        'restarts',
        'requests',
        'failed (wrk socket errors)',
        'responses ≥ 1 s',
        'slowest',
        'TCPMigrateReqSuccess',
        'OutRsts',
      ],
      runs.map((r) => [
        RACE_NAMES[r.kind] ?? r.kind,
        f(r.restarts),
        f(r.requests),
        `${f(r.failed)}${r.socketErrors ? ` (${r.socketErrors})` : ''}`,
        r.slowResponses === null ? '–' : f(r.slowResponses),
        r.maxLatencyMs === null ? '–' : `${f(r.maxLatencyMs)} ms`,
        f(r.counters.TCPMigrateReqSuccess),
        f(r.counters.OutRsts),
      ]),
    ),
    '',
    `Back-to-back restarts under \`wrk -c50 -H 'Connection: close'\` in a private network namespace, ${RACE_ROUNDS} interleaved rounds (\`npm run bench -- --only close-race --soak-restarts ${soakRestarts}\`).`,
    '',
  ],
};

/** Every section, in the order they run and appear in bench.md. */
const fleetSection: Section<FleetRow[]> = {
  name: 'fleet',
  key: 'fleet',
  async measure({ root, dist, dir, runner, say }) {
    const docker = connect();
    if (!(await engineAnswers(docker)))
      throw new SetupError('fleet needs a Docker engine; run scripts/setup/docker-engine.sh');
    say('fleet: building reuseport-lab:local...');
    await buildImage(docker, { contextDir: root, image: IMAGE_DEFAULTS.image, nodeVersion: '24' });
    return fleetScale({
      root,
      cli: join(dist, 'cli.js'),
      dir,
      image: IMAGE_DEFAULTS.image,
      docker,
      runner,
      counts: [1, 3, 6],
      say,
    });
  },
  render: (rows) => [
    '### Fleet: a rolling update on Docker Swarm',
    '',
    table(
      [
        'replicas',
        'load',
        'requests',
        'failed',
        'update took',
        'gate CPU',
        'replicas CPU',
        'replicas CPU per 1,000 requests',
      ],
      rows.map((r) => [
        String(r.replicas),
        r.load === 'keepalive' ? 'keep-alive' : 'new connection per request',
        f(r.requests),
        f(r.failed),
        `${f(r.updateSeconds, 1)} s`,
        `${f(r.harnessCpuSeconds, 1)} s`,
        `${f(r.replicasCpuSeconds, 1)} s`,
        `${f((r.replicasCpuSeconds * 1e6) / Math.max(1, r.requests), 0)} ms`,
      ]),
    ),
    '',
    "One `docker service update --force` (start-first, parallelism 1, 1 s apart, `DRAIN_LISTEN_GRACE_MS` 3000) of `scripts/swarm/fleet.sh up`'s stack per row, under the gate's load (one mode at a time, 20 connections: the 2 cores also run the update's containers; 3 s warm-up and cool-down) through the stack's HAProxy. The update took: from the command's start until the service settled (every replaced task ended). Gate CPU: the gate process and its children (this process's reaped-children times); replicas CPU: every container of the service that lived during the run, from its cpuacct cgroup sampled every 200 ms (HAProxy not included). One run per row: read the columns against each other, not as a spread.",
    '',
  ],
};

const modelsSection: Section<ModelRun[]> = {
  name: 'models',
  key: 'models',
  measure: ({ root, dist, runner, rounds, say }) =>
    compareModels({ runner, cli: join(dist, 'cli.js'), cwd: root, rounds, say }),
  render: (runs, { rounds }) => renderModels(runs, rounds),
};

const GOAWAY_LOAD = { streams: 32, h2load: { clients: 8, streamsPerClient: 4 }, restarts: 5, intervalMs: 1_000 };

const goawaySection: Section<GoawaySample[]> = {
  name: 'goaway',
  key: 'goaway',
  measure: ({ node, ours, rounds, say }) =>
    compareGoaway({ node: node.path, server: ours, rounds, ...GOAWAY_LOAD, say }),
  render: (samples, { rounds, node }) => [
    '### One GOAWAY against two',
    '',
    table(
      [
        'DRAIN_GOAWAY',
        'runs',
        'gate: answered',
        'gate: refused (never processed)',
        'gate: sent again (unwritten)',
        'gate: lost',
        'h2load: failed',
        'h2load: errored',
      ],
      summariseGoaway(samples).map((s) => [
        `\`${s.mode}\``,
        String(s.runs),
        sp(s.answered),
        sp(s.refused),
        sp(s.resent),
        sp(s.lost),
        sp(s.h2loadFailed),
        sp(s.h2loadErrored),
      ]),
    ),
    '',
    `Our server over h2c (\`npm run bench -- --only goaway\`), ${rounds} interleaved rounds per mode, servers on Node ${node.version}; ${GOAWAY_LOAD.restarts} restarts ${GOAWAY_LOAD.intervalMs / 1000} s apart (a new server on the port, ready, then SIGTERM to the old one, which drains). Two clients at once on the same restarts: the gate's own HTTP/2 load (${GOAWAY_LOAD.streams} streams in flight at full speed on keep-alive sessions of up to 10 streams, a refused stream not sent again), and h2load (${GOAWAY_LOAD.h2load.clients} clients × ${GOAWAY_LOAD.h2load.streamsPerClient} streams; it opens no new connection after a GOAWAY, so one h2load per restart, started on the server about to go and lasting 1.5 s past the restart). Refused: above the last stream id of a GOAWAY the server sent, or REFUSED_STREAM: never processed, safe to send again, failed by a client or proxy that does not (grpc/grpc-go#1387: Envoy's 503s). Sent again: streams the gate's client had queued but not written when a GOAWAY came (Node's client may not open them on that session), sent on a later one. Lost: reset at or below the last stream id, or cut. h2load counts a request failed when it got no 2xx or 3xx answer, and errored (a part of failed) when it failed below HTTP: a reset, a refused stream, a cut connection.`,
    '',
  ],
};

// Each section's data has its own type, both made and read by it: only `any` holds them in one list.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SECTIONS: Section<any>[] = [
  serverCostSection,
  restartCostSection,
  migrateSection,
  ceilingSection,
  scaleSection,
  soakSection,
  closeRaceSection,
  fleetSection,
  modelsSection,
  goawaySection,
];
