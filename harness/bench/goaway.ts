// One GOAWAY against two, side by side: our server restarted under HTTP/2
// load with each way of telling a session to go (drain line 10), in
// interleaved rounds. The load is Node's own HTTP/2 client: sessions that
// each keep a few streams in flight, one after the other, and open a new
// session (on whichever server the port gives) when theirs is going. Each
// stream ends one way: answered; not taken (above the last stream id of a
// GOAWAY the server sent: it crossed that GOAWAY, and the server never
// processed it); unsent (Node's client fails a stream it had queued when its
// session is told to go, and opens none on it after); or lost (reset, cut, a
// session error: the server may have processed it). Not taken and unsent are
// both safe to send again; a client or proxy that does not fails them.
import { spawn, type ChildProcess } from 'node:child_process';
import http2 from 'node:http2';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spread, type Spread } from '../compare/rows.js';
import { freePort } from '../runtime/processes.js';

export type GoawayMode = 'two-phase' | 'one-shot';
export const GOAWAY_MODES: GoawayMode[] = ['two-phase', 'one-shot'];

export interface GoawaySample {
  mode: GoawayMode;
  restarts: number;
  answered: number;
  notTaken: number;
  unsent: number;
  lost: number;
  /** How the lost streams ended (error code, and the stream's RST code when it has one). */
  lostHow: Record<string, number>;
}

export interface GoawaySummary {
  mode: GoawayMode;
  runs: number;
  answered: Spread | null;
  notTaken: Spread | null;
  unsent: Spread | null;
  lost: Spread | null;
  lostHow: Record<string, number>;
}

interface Options {
  node: string;
  server: string;
  rounds: number;
  restarts: number;
  sessions: number;
  streamsPerSession: number;
  /** Between restarts. */
  intervalMs: number;
  say: (line: string) => void;
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

/** One run: a server, then `restarts` replacements under the load; every stream counted once. */
async function runOnce(options: Options, mode: GoawayMode): Promise<GoawaySample> {
  const port = await freePort();
  const sample: GoawaySample = {
    mode,
    restarts: options.restarts,
    answered: 0,
    notTaken: 0,
    unsent: 0,
    lost: 0,
    lostHow: {},
  };
  let serving = await startServer(options.node, options.server, port, mode);
  let stop = false;
  const sessions = new Set<http2.ClientHttp2Session>();
  /** Each session's lowest last-stream-id of a GOAWAY received so far. */
  const lastTaken = new WeakMap<http2.ClientHttp2Session, number>();

  /** A session's stream loops; a new session when it is told to go, until stopped. */
  const drive = async (): Promise<void> => {
    while (!stop) {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      sessions.add(session);
      session.on('error', () => {});
      session.on('goaway', (_code, last: number) =>
        lastTaken.set(session, Math.min(last, lastTaken.get(session) ?? last)),
      );
      await Promise.all(Array.from({ length: options.streamsPerSession }, () => streams(session)));
      sessions.delete(session);
      session.destroy();
    }
  };
  /** Streams one after the other on `session` until it is going or the run stops. */
  const streams = async (session: http2.ClientHttp2Session): Promise<void> => {
    while (!stop && !session.closed && !session.destroyed) {
      const { outcome, id } = await stream(session);
      if (outcome === 'answered') sample.answered++;
      else if (outcome === 'refused') {
        // Above a GOAWAY's last stream id: the server's GOAWAY crossed it. Else the client never sent it.
        const last = lastTaken.get(session);
        if (id !== undefined && last !== undefined && id > last) sample.notTaken++;
        else sample.unsent++;
        return;
      } else {
        sample.lost++;
        sample.lostHow[outcome] = (sample.lostHow[outcome] ?? 0) + 1;
        return;
      }
    }
  };

  const drivers = Array.from({ length: options.sessions }, () => drive());
  try {
    for (let i = 0; i < options.restarts; i++) {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
      const next = await startServer(options.node, options.server, port, mode);
      await stopServer(serving);
      serving = next;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  } finally {
    stop = true;
    await Promise.race([Promise.all(drivers), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    for (const session of sessions) session.destroy();
    await stopServer(serving);
  }
  return sample;
}

/** One GET / on `session`: answered, refused (never processed), or how it was lost; with its stream id. */
function stream(session: http2.ClientHttp2Session): Promise<{ outcome: string; id?: number }> {
  return new Promise((done) => {
    let request: http2.ClientHttp2Stream | undefined;
    const resolve = (outcome: string) => done({ outcome, id: request?.id });
    try {
      request = session.request({ ':path': '/' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return resolve(
        code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION' ? 'refused' : `${code}`,
      );
    }
    let status = 0;
    const sent = request;
    const timer = setTimeout(() => sent.close(http2.constants.NGHTTP2_CANCEL), 10_000);
    request.on('response', (headers) => (status = Number(headers[':status'])));
    request.resume();
    request.on('end', () => {
      clearTimeout(timer);
      resolve(status === 200 ? 'answered' : `status ${status}`);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // Not opened on a session told to go, or refused by the server: never processed either way.
      if (error.code === 'ERR_HTTP2_GOAWAY_SESSION' || sent.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM)
        return resolve('refused');
      resolve(`${error.code}${sent.rstCode ? ` rst ${sent.rstCode}` : ''}`);
    });
    request.end();
  });
}

/** Every mode in every round, the order rotated per round. */
export async function compareGoaway(options: Options): Promise<GoawaySample[]> {
  const samples: GoawaySample[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? GOAWAY_MODES : [...GOAWAY_MODES].reverse();
    for (const mode of order) {
      const sample = await runOnce(options, mode);
      options.say(
        `goaway round ${round + 1}/${options.rounds} ${mode}: ${sample.answered} answered, ${sample.notTaken} not taken, ${sample.unsent} unsent, ${sample.lost} lost`,
      );
      samples.push(sample);
    }
  }
  return samples;
}

export function summariseGoaway(samples: GoawaySample[]): GoawaySummary[] {
  return GOAWAY_MODES.map((mode) => {
    const mine = samples.filter((s) => s.mode === mode);
    const lostHow: Record<string, number> = {};
    for (const s of mine) for (const [how, n] of Object.entries(s.lostHow)) lostHow[how] = (lostHow[how] ?? 0) + n;
    return {
      mode,
      runs: mine.length,
      answered: spread(mine.map((s) => s.answered)),
      notTaken: spread(mine.map((s) => s.notTaken)),
      unsent: spread(mine.map((s) => s.unsent)),
      lost: spread(mine.map((s) => s.lost)),
      lostHow,
    };
  });
}
