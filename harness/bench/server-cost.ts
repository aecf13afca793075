// Server cost: our server against a plain http.createServer with the same
// body and headers, and against Node's own listen({ reusePort: true }), on
// the same Node, one core each for the server and for wrk. Rounds are
// interleaved (each round runs every server once, in a rotated order), and
// the headline is CPU time per request: the server's utime+stime over the
// requests it answered, which stays within a few percent on this shared
// machine where requests/s swings by a third.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spread, type Spread } from '../compare/rows.js';
import { freePort } from '../runtime/processes.js';
import { answering, cpuMicros, pinned, wrk } from './measure.js';

export interface ServerUnderTest {
  name: string;
  /** The script Node runs, and its extra environment. */
  script: string;
  env?: Record<string, string>;
}

interface ModeSample {
  perSecond: number;
  p99Ms: number;
  /** utime + stime over requests answered. */
  cpuMicrosPerRequest: number;
  /** utime alone: where the server's own code runs (the kernel's share is alike for every server). */
  userMicrosPerRequest: number;
  errors: number;
}

export interface CostSample {
  keepalive: ModeSample;
  churn: ModeSample;
}

export interface CostSummary {
  name: string;
  keepalivePerSecond: Spread;
  keepaliveP99Ms: Spread;
  keepaliveCpu: Spread;
  keepaliveUser: Spread;
  churnPerSecond: Spread;
  churnCpu: Spread;
  /** Per round: this server's CPU per request over the first one's (keep-alive); below 1 the first spends more. */
  efficiencyOfFirst: Spread | null;
  /** The same for user CPU alone. */
  userEfficiencyOfFirst: Spread | null;
  /** The same ratio with a new connection per request. */
  churnEfficiencyOfFirst: Spread | null;
}

async function measureOnce(
  node: string,
  server: ServerUnderTest,
  seconds: number,
  connections: number,
): Promise<CostSample> {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-bench-'));
  const [cmd, ...args] = pinned(1, [node, server.script]);
  const child = spawn(cmd!, args, {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', STATE_DIR: stateDir, ...server.env },
    stdio: 'ignore',
  });
  try {
    const url = `http://127.0.0.1:${port}/`;
    await answering(url, child);
    const run = async (newConnectionPerRequest: boolean): Promise<ModeSample> => {
      const before = cpuMicros(child.pid!);
      const result = await wrk(url, { connections, seconds, newConnectionPerRequest });
      const after = cpuMicros(child.pid!);
      return {
        perSecond: result.perSecond,
        p99Ms: result.p99Ms,
        cpuMicrosPerRequest: (after.total - before.total) / result.requests,
        userMicrosPerRequest: (after.user - before.user) / result.requests,
        errors: result.errors,
      };
    };
    return { keepalive: await run(false), churn: await run(true) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  }
}

export async function serverCost(
  node: string,
  servers: ServerUnderTest[],
  options: { rounds: number; seconds: number; connections: number; onProgress?: (line: string) => void },
): Promise<CostSummary[]> {
  const samples = new Map(servers.map((s) => [s.name, [] as CostSample[]]));
  for (let round = 0; round < options.rounds; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
    for (const server of order) {
      const sample = await measureOnce(node, server, options.seconds, options.connections);
      samples.get(server.name)!.push(sample);
      options.onProgress?.(
        `round ${round + 1}/${options.rounds} ${server.name}: ${Math.round(sample.keepalive.perSecond)} req/s, ${sample.keepalive.cpuMicrosPerRequest.toFixed(2)} µs CPU/request (${sample.keepalive.userMicrosPerRequest.toFixed(2)} µs user)`,
      );
    }
  }
  const first = samples.get(servers[0]!.name)!;
  return servers.map((server) => {
    const mine = samples.get(server.name)!;
    const pick = (f: (s: CostSample) => number) => spread(mine.map(f))!;
    return {
      name: server.name,
      keepalivePerSecond: pick((s) => s.keepalive.perSecond),
      keepaliveP99Ms: pick((s) => s.keepalive.p99Ms),
      keepaliveCpu: pick((s) => s.keepalive.cpuMicrosPerRequest),
      keepaliveUser: pick((s) => s.keepalive.userMicrosPerRequest),
      churnPerSecond: pick((s) => s.churn.perSecond),
      churnCpu: pick((s) => s.churn.cpuMicrosPerRequest),
      efficiencyOfFirst:
        server === servers[0]
          ? null
          : spread(first.map((s, i) => mine[i]!.keepalive.cpuMicrosPerRequest / s.keepalive.cpuMicrosPerRequest)),
      userEfficiencyOfFirst:
        server === servers[0]
          ? null
          : spread(first.map((s, i) => mine[i]!.keepalive.userMicrosPerRequest / s.keepalive.userMicrosPerRequest)),
      churnEfficiencyOfFirst:
        server === servers[0]
          ? null
          : spread(first.map((s, i) => mine[i]!.churn.cpuMicrosPerRequest / s.churn.cpuMicrosPerRequest)),
    };
  });
}
