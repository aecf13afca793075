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

async function startServers(node: string, script: string, count: number): Promise<{ port: number; children: ChildProcess[] }> {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-bench-'));
  const children = Array.from({ length: count }, () => spawn(node, [script], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', STATE_DIR: stateDir }, stdio: 'ignore' }));
  for (const child of children) await answering(`http://127.0.0.1:${port}/healthz`, child);
  return { port, children };
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM'))))));
}

export interface ProcessesRow {
  processes: number;
  perSecond: number;
  p99Ms: number;
}

/** 1, 2 and 4 servers on one port, 50 keep-alive connections from wrk (wrk shares the 2 cores). */
export async function processesScale(node: string, script: string, counts: number[], seconds: number): Promise<ProcessesRow[]> {
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
  /** Server RSS under load minus idle, per connection. */
  serverKiBPerConnection: number;
  /** The harness's keep-alive client: its peak RSS over a run with no connection, per connection. */
  harnessKiBPerConnection: number;
}

function probe(probeScript: string, url: string, connections: number, seconds: number): Promise<{ perSecond: number; peakRssKiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [probeScript, 'keepalive', url, String(connections), String(seconds), 'on'], { stdio: ['ignore', 'pipe', 'inherit'] });
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

export async function connectionsScale(node: string, script: string, probeScript: string, counts: number[], seconds: number): Promise<ConnectionsRow[]> {
  const rows: ConnectionsRow[] = [];
  const { port, children } = await startServers(node, script, 1);
  const pid = children[0]!.pid!;
  try {
    const url = `http://127.0.0.1:${port}/`;
    const idle = rssKiB(pid);
    const baseline = await probe(probeScript, url, 1, 2);
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
        serverKiBPerConnection: (peak - idle) / connections,
        harnessKiBPerConnection: (harness.peakRssKiB - baseline.peakRssKiB) / Math.max(1, connections - 1),
      });
    }
  } finally {
    await stop(children);
  }
  return rows;
}
