// Scale on one machine: several of our servers sharing one port with
// SO_REUSEPORT, and many keep-alive connections on one; throughput, p99 and
// memory per connection of the server (under wrk) and of the harness's own
// keep-alive client (load-probe.js).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../runtime/processes.js';
import { answering, rssKiB, wrk } from './measure.js';

async function startServers(
  node: string,
  script: string,
  count: number,
): Promise<{ port: number; children: ChildProcess[] }> {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-bench-'));
  const children = Array.from({ length: count }, () =>
    spawn(node, [script], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', STATE_DIR: stateDir },
      stdio: 'ignore',
    }),
  );
  for (const child of children) await answering(`http://127.0.0.1:${port}/healthz`, child);
  return { port, children };
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) =>
          child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM')),
        ),
    ),
  );
}

export interface ProcessesRow {
  processes: number;
  perSecond: number;
  p99Ms: number;
}

/** 1, 2 and 4 servers on one port, 50 keep-alive connections from wrk (wrk shares the 2 cores). */
export async function processesScale(
  node: string,
  script: string,
  counts: number[],
  seconds: number,
): Promise<ProcessesRow[]> {
  const rows: ProcessesRow[] = [];
  for (const processes of counts) {
    const { port, children } = await startServers(node, script, processes);
    try {
      const result = await wrk(`http://127.0.0.1:${port}/`, { connections: 50, seconds });
      rows.push({ processes, perSecond: result.perSecond, p99Ms: result.p99Ms });
    } finally {
      await stop(children);
    }
  }
  return rows;
}

export interface ConnectionsRow {
  connections: number;
  perSecond: number;
  p99Ms: number;
  /** Peak RSS under this load, KiB: the server's (under wrk) and the harness keep-alive client's. */
  serverPeakKiB: number;
  harnessPeakKiB: number;
}

/** Memory per connection as the slope between two loads: what each extra connection adds, without the heap's growth under any load. */
export function perConnectionKiB(rows: ConnectionsRow[], pick: (row: ConnectionsRow) => number): number {
  const [low, high] = [rows[0]!, rows.at(-1)!];
  return (pick(high) - pick(low)) / (high.connections - low.connections);
}

function probe(
  probeScript: string,
  url: string,
  connections: number,
  seconds: number,
): Promise<{ perSecond: number; peakRssKiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [probeScript, 'keepalive', url, String(connections), String(seconds), 'on'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('close', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`load-probe printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

export async function connectionsScale(
  node: string,
  script: string,
  probeScript: string,
  counts: number[],
  seconds: number,
): Promise<ConnectionsRow[]> {
  const rows: ConnectionsRow[] = [];
  const { port, children } = await startServers(node, script, 1);
  const pid = children[0]!.pid!;
  try {
    const url = `http://127.0.0.1:${port}/`;
    for (const connections of counts) {
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 100);
      const result = await wrk(url, { connections, seconds, threads: connections >= 100 ? 2 : 1 });
      clearInterval(sampler);
      const harness = await probe(probeScript, url, connections, Math.min(seconds, 3));
      rows.push({
        connections,
        perSecond: result.perSecond,
        p99Ms: result.p99Ms,
        serverPeakKiB: peak,
        harnessPeakKiB: harness.peakRssKiB,
      });
    }
  } finally {
    await stop(children);
  }
  return rows;
}
