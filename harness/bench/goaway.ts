// One GOAWAY against two, side by side: our server restarted under HTTP/2
// load with each way of telling a session to go (drain line 10), in
// interleaved rounds. Two clients count the same restarts at once: the
// gate's own HTTP/2 load (load/h2-transport.ts: keep-alive sessions of up to
// 10 streams, at full speed), which says how each stream ended, and h2load
// (nghttp2's benchmark client, Debian's nghttp2-client), which says only
// succeeded, failed or errored: an independent count, as wrk is for
// HTTP/1.1. Refused: never processed (above a GOAWAY's last stream id, or
// REFUSED_STREAM), safe to send again and failed by a client that does not.
// Lost: reset at or below it, or cut.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spread, type Spread } from '../compare/rows.js';
import { findOnPath } from '../find-on-path.js';
import { NO_SCHEDULE } from '../load/arrivals.js';
import { Http2Ledger } from '../load/h2-ledger.js';
import { startOpenLoad } from '../load/open-load.js';
import { Recorder } from '../load/recorder.js';
import { freePort } from '../runtime/processes.js';

export type GoawayMode = 'two-phase' | 'one-shot';
export const GOAWAY_MODES: GoawayMode[] = ['two-phase', 'one-shot'];

/** What h2load counted over the same restarts (its "requests:" line). */
export interface H2loadCount {
  succeeded: number;
  failed: number;
  errored: number;
}

export interface GoawaySample {
  mode: GoawayMode;
  restarts: number;
  answered: number;
  /** Refused by the server or above a GOAWAY's last stream id: never processed. */
  refused: number;
  /** Queued by the client, not written when a GOAWAY came, sent on a later session. */
  resent: number;
  lost: number;
  h2load: H2loadCount | null;
}

export interface GoawaySummary {
  mode: GoawayMode;
  runs: number;
  answered: Spread | null;
  refused: Spread | null;
  resent: Spread | null;
  lost: Spread | null;
  h2loadFailed: Spread | null;
  h2loadErrored: Spread | null;
}

interface Options {
  node: string;
  server: string;
  rounds: number;
  restarts: number;
  /** Streams the gate's load keeps in flight. */
  streams: number;
  /** h2load's clients and streams per client (-c, -m); 0 clients: no h2load. */
  h2load: { clients: number; streamsPerClient: number };
  /** Between restarts. */
  intervalMs: number;
  say: (line: string) => void;
}

/** How long each h2load runs past the restart it spans: the new server's start, then the old one's GOAWAYs. */
const H2LOAD_PAST_RESTART_MS = 1_500;

/** h2load's counts over several runs; null when one of them printed none. */
function sumCounts(counts: (H2loadCount | null)[]): H2loadCount | null {
  let sum: H2loadCount = { succeeded: 0, failed: 0, errored: 0 };
  for (const c of counts) {
    if (!c) return null;
    sum = { succeeded: sum.succeeded + c.succeeded, failed: sum.failed + c.failed, errored: sum.errored + c.errored };
  }
  return sum;
}

/** h2load's "requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout" line. */
export function parseH2load(output: string): H2loadCount | null {
  const match = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(output);
  return match ? { succeeded: Number(match[1]), failed: Number(match[2]), errored: Number(match[3]) } : null;
}

/** A server process of ours on `port`; resolves once it logged `ready`. */
function startServer(node: string, script: string, port: number, mode: GoawayMode): Promise<ChildProcess> {
  const child = spawn(node, [script], {
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      STATE_DIR: mkdtempSync(join(tmpdir(), 'goaway-')),
      DRAIN_GOAWAY: mode,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(
      () => reject(new Error(`the server on port ${port} was not ready within 10 s`)),
      10_000,
    );
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk;
      if (/"event":"ready"/.test(seen)) {
        clearTimeout(deadline);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`the server on port ${port} exited (${code}) before it was ready`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** h2load for `ms` against `port`: resolves with what it counted (null when it printed no count). */
function h2loadFor(command: string, port: number, ms: number, options: Options['h2load']) {
  const child = spawn(
    command,
    [
      '-c',
      String(options.clients),
      '-m',
      String(options.streamsPerClient),
      '-D',
      `${Math.round(ms)}ms`,
      `http://127.0.0.1:${port}/`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  return new Promise<H2loadCount | null>((resolve) => child.on('close', () => resolve(parseH2load(output))));
}

/** One run: a server, then `restarts` replacements under both clients; every stream counted once by each. */
async function runOnce(options: Options, mode: GoawayMode, h2load: string | null): Promise<GoawaySample> {
  const port = await freePort();
  let serving = await startServer(options.node, options.server, port, mode);
  const recorder = new Recorder(100);
  const ledger = new Http2Ledger('h2c');
  const load = startOpenLoad(
    {
      mode: 'keepalive',
      host: '127.0.0.1',
      port,
      ratePerSecond: { concurrency: options.streams },
      maxConnections: options.streams,
      maxSeconds: 120,
      timeoutSeconds: 10,
      settleMs: 5_000,
      http2: { protocol: 'h2c', retryRefused: false, ledger },
    },
    recorder,
    NO_SCHEDULE,
  );
  // h2load opens no new connection when a server tells one to go: one h2load per restart, started on the
  // server about to go and lasting until that server's GOAWAYs are past.
  const counted: (H2loadCount | null)[] = [];
  const withH2load = h2load !== null && options.h2load.clients > 0 ? h2load : null;
  try {
    for (let i = 0; i < options.restarts; i++) {
      const spanning = withH2load
        ? h2loadFor(withH2load, port, options.intervalMs + H2LOAD_PAST_RESTART_MS, options.h2load)
        : null;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
      const next = await startServer(options.node, options.server, port, mode);
      await stopServer(serving);
      serving = next;
      if (spanning) counted.push(await spanning);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  } finally {
    await load.stop();
    await stopServer(serving);
  }
  const { streams } = ledger.snapshot();
  return {
    mode,
    restarts: options.restarts,
    answered: recorder.snapshot().answered,
    refused: streams.refused + streams.crossed,
    resent: streams.resentUnsent,
    lost: streams.reset + streams.cut,
    h2load: withH2load ? sumCounts(counted) : null,
  };
}

/** Every mode in every round, the order rotated per round. */
export async function compareGoaway(options: Options): Promise<GoawaySample[]> {
  const h2load = findOnPath(['h2load']) ?? null;
  if (!h2load) options.say("goaway: h2load is not installed (apt-get install nghttp2-client): the gate's count only");
  const samples: GoawaySample[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? GOAWAY_MODES : [...GOAWAY_MODES].reverse();
    for (const mode of order) {
      const sample = await runOnce(options, mode, h2load);
      const independent = sample.h2load
        ? `; h2load ${sample.h2load.succeeded} succeeded, ${sample.h2load.failed} failed, ${sample.h2load.errored} errored`
        : '';
      options.say(
        `goaway round ${round + 1}/${options.rounds} ${mode}: ${sample.answered} answered, ${sample.refused} refused, ${sample.resent} resent, ${sample.lost} lost${independent}`,
      );
      samples.push(sample);
    }
  }
  return samples;
}

export function summariseGoaway(samples: GoawaySample[]): GoawaySummary[] {
  return GOAWAY_MODES.map((mode) => {
    const mine = samples.filter((s) => s.mode === mode);
    const counted = mine.flatMap((s) => (s.h2load ? [s.h2load] : []));
    return {
      mode,
      runs: mine.length,
      answered: spread(mine.map((s) => s.answered)),
      refused: spread(mine.map((s) => s.refused)),
      resent: spread(mine.map((s) => s.resent)),
      lost: spread(mine.map((s) => s.lost)),
      h2loadFailed: spread(counted.map((c) => c.failed)),
      h2loadErrored: spread(counted.map((c) => c.errored)),
    };
  });
}
