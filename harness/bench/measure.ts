// What the benchmarks measure with, on the host: processes pinned to a core,
// their CPU time from /proc, wrk as the reference load generator, and the
// Node binary every server of a comparison runs on.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SetupError } from '../errors.js';
import { findOnPath } from '../find-on-path.js';

let clockTicks: number | undefined;

/**
 * Clock ticks per second of /proc's CPU times, asked of getconf when first
 * needed (not at import: every command loads this module, few measure); 100,
 * Linux's USER_HZ, where getconf cannot be run.
 */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks =
        Number(
          execFileSync('getconf', ['CLK_TCK'], { stdio: ['ignore', 'pipe', 'ignore'] })
            .toString()
            .trim(),
        ) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Runs `argv` on one core when taskset and a second core exist, so load and server do not share one. */
export function pinned(core: number, argv: string[]): string[] {
  return findOnPath(['taskset']) && cpus().length > 1 ? ['taskset', '-c', String(core), ...argv] : argv;
}

/** CPU time of a process so far, in µs: user (utime), and user plus system (stime). */
export function cpuMicros(pid: number): { user: number; total: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = ticksPerSecond();
  const user = (Number(fields[11]) / ticks) * 1e6;
  return { user, total: user + (Number(fields[12]) / ticks) * 1e6 };
}

/** Resident memory of a process, in KiB. */
export function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

export interface WrkResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p99Ms: number;
  errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses wrk's report (with --latency). */
export function parseWrk(text: string): WrkResult {
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(text);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s|m)/m.exec(text);
  if (!done || !p99) throw new Error(`wrk printed no result: ${text.slice(0, 300)}`);
  const seconds = (Number(done[2]) * UNIT_MS[done[3]!]!) / 1000;
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(done[1]),
    seconds,
    perSecond: Number(done[1]) / seconds,
    p99Ms: Number(p99[1]) * UNIT_MS[p99[2]!]!,
    errors: (errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0),
  };
}

/** wrk against `url` on core 0: `connections` keep-alive connections, or a new one per request. */
export function wrk(
  url: string,
  options: { connections: number; seconds: number; newConnectionPerRequest?: boolean; threads?: number },
): Promise<WrkResult> {
  if (!findOnPath(['wrk']))
    throw new SetupError('the benchmarks need wrk as the reference load; install it (Debian: apt-get install wrk)');
  const args = [
    '-t',
    String(options.threads ?? 1),
    '-c',
    String(options.connections),
    '-d',
    `${options.seconds}s`,
    '--latency',
    ...(options.newConnectionPerRequest ? ['-H', 'Connection: close'] : []),
    url,
  ];
  return new Promise((resolve, reject) => {
    const [cmd, ...rest] = pinned(0, ['wrk', ...args]);
    const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(parseWrk(out));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** Waits until GET url answers 200 (a server just started), up to 10 s. */
/**
 * Runs a measuring child (argv[0] is the program) and parses the one JSON
 * document it prints; its stderr goes to ours. A non-zero exit rejects with
 * `exitCode` set, so a caller can name a known one.
 */
export function jsonFromChild<T>(argv: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        return reject(
          Object.assign(new Error(`${args.at(0) ?? cmd} exited ${code}: ${text.slice(0, 300)}`), { exitCode: code }),
        );
      try {
        resolve(JSON.parse(text) as T);
      } catch {
        reject(new Error(`${args.at(0) ?? cmd} printed no JSON: ${text.slice(0, 300)}`));
      }
    });
  });
}

export async function answering(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before it answered`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer within 10 s`);
}

/**
 * The Node binary for comparisons that include Node's own reusePort
 * (22.12+): this one when it is recent enough, else BENCH_NODE, else the
 * Node 24 of the base image (node:24-bookworm-slim), copied out once.
 */
/** Node 22.12+ and 23.1+ take listen({ reusePort }); older ones ignore it and bind alone. */
export function hasReusePort(version: string): boolean {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major! > 23 || (major === 23 && minor! >= 1) || (major === 22 && minor! >= 12);
}

export async function benchNode(): Promise<{ path: string; version: string }> {
  const version = (path: string) => execFileSync(path, ['--version']).toString().trim();
  const recent = hasReusePort;
  if (process.env.BENCH_NODE) return { path: process.env.BENCH_NODE, version: version(process.env.BENCH_NODE) };
  if (recent(process.version)) return { path: process.execPath, version: process.version };
  const dir = join(tmpdir(), 'reuseport-lab-bench');
  const path = join(dir, 'node24');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    try {
      const id = execFileSync('docker', ['create', 'node:24-bookworm-slim']).toString().trim();
      try {
        execFileSync('docker', ['cp', `${id}:/usr/local/bin/node`, path]);
      } finally {
        execFileSync('docker', ['rm', id]);
      }
    } catch (error) {
      throw new SetupError(
        `this Node (${process.version}) has no listen({ reusePort }) and no Node 24 could be copied from node:24-bookworm-slim (${(error as Error).message.split('\n')[0]}); set BENCH_NODE to a Node 22.12+ binary`,
      );
    }
  }
  return { path, version: version(path) };
}
