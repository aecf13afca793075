// The open model over HTTP/2 against real servers of ours, replaced the way
// restart.sh does (a new one on the port, then SIGTERM to the old one): each
// stream ends one way, and every GOAWAY a session received is in the ledger.
// Then against in-process servers that misbehave on purpose: one that
// refuses streams, one that exits with streams open.
import http2 from 'node:http2';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startReadyServer, type ServerProcess } from '../../test/processes.js';
import { NO_SCHEDULE } from './arrivals.js';
import { Http2Ledger, NOTICE_LAST_STREAM_ID } from './h2-ledger.js';
import type { LoadMode } from './modes.js';
import { startOpenLoad } from './open-load.js';
import { Recorder } from './recorder.js';

const inProcess: http2.Http2Server[] = [];
afterEach(async () => {
  for (const server of inProcess.splice(0)) await new Promise<void>((r) => server.close(() => r()));
  await cleanup();
});

/** Drives `mode` over h2c at `rate`/s while `during` runs; the ledgers once every stream has ended. */
async function drive(
  port: number,
  mode: LoadMode,
  during: () => Promise<void>,
  options: { rate?: number; retryRefused?: boolean; path?: string; timeoutSeconds?: number } = {},
) {
  const recorder = new Recorder(100, 100, Date.now());
  const ledger = new Http2Ledger('h2c');
  const load = startOpenLoad(
    {
      mode,
      host: '127.0.0.1',
      port,
      ratePerSecond: options.rate ?? 300,
      maxConnections: 50,
      maxSeconds: 60,
      timeoutSeconds: options.timeoutSeconds ?? 5,
      settleMs: 3000,
      path: options.path,
      http2: { protocol: 'h2c', retryRefused: options.retryRefused ?? false, ledger },
    },
    recorder,
    NO_SCHEDULE,
  );
  await during();
  await load.stop();
  const snapshot = recorder.snapshot();
  expect(snapshot.written, 'every stream written ends once').toBe(
    snapshot.answered + snapshot.failed + snapshot.inFlightAtStop,
  );
  return { load: snapshot, http2: ledger.snapshot() };
}

/** Replaces the server on `port` `times` times, `gapMs` apart, the way restart.sh does; env for each new one. */
async function restarts(first: ServerProcess, times: number, gapMs: number, env: NodeJS.ProcessEnv = {}) {
  let serving = first;
  for (let i = 0; i < times; i++) {
    await sleep(gapMs);
    const next = await startReadyServer({ PORT: String(first.port), ...env });
    serving.child.kill('SIGTERM');
    await serving.exited;
    serving = next;
  }
  await sleep(gapMs);
}

describe('HTTP/2 in the open model', () => {
  it.each(['keepalive', 'churn'] as const)(
    '%s: our server through 3 restarts: every stream answered, each session warned before its final GOAWAY',
    async (mode) => {
      const first = await startReadyServer();
      const run = await drive(first.port, mode, () => restarts(first, 3, 700));
      expect(run.load.failed, JSON.stringify(run.load.failuresByCause)).toBe(0);
      expect(run.load.answered).toBeGreaterThan(500);
      expect(new Set(run.load.pids.map((p) => p.pid)).size).toBe(4);
      const { goaways, streams, lost } = run.http2;
      // A session per request is open for a millisecond: one may or may not be open when a server goes.
      if (mode === 'keepalive') {
        expect(goaways.notices).toBeGreaterThan(0);
        expect(goaways.listed[0]).toMatchObject({ lastStreamId: NOTICE_LAST_STREAM_ID, errorCode: 0 });
      }
      expect(goaways.finalsWithoutNotice).toBe(0);
      expect(goaways.closedWithoutGoaway).toBe(0);
      expect(streams).toMatchObject({ refused: 0, crossed: 0, reset: 0, cut: 0 });
      expect(lost).toEqual([]);
    },
    30_000,
  );

  it('keepalive: a one-shot GOAWAY (DRAIN_GOAWAY=one-shot) reaches its sessions with no notice first', async () => {
    const first = await startReadyServer({ DRAIN_GOAWAY: 'one-shot' });
    const run = await drive(first.port, 'keepalive', () => restarts(first, 3, 700, { DRAIN_GOAWAY: 'one-shot' }));
    const { goaways } = run.http2;
    expect(goaways.notices).toBe(0);
    expect(goaways.finalsWithoutNotice).toBeGreaterThanOrEqual(3);
    expect(goaways.finalsAfterNotice).toBe(0);
    expect(goaways.noticeToFinalMs).toBeNull();
    // What crossed the GOAWAY was refused, never lost: the server finished what it took.
    expect(run.http2.streams).toMatchObject({ reset: 0, cut: 0 });
    expect(run.load.failuresByCause.refused_stream ?? 0).toBe(run.http2.streams.crossed + run.http2.streams.refused);
  }, 30_000);

  it('names every stream a server leaves open when it exits: cut, with its session and stream id', async () => {
    // The drain deadline is shorter than the slow requests: the old server exits with them open.
    const first = await startReadyServer({ DRAIN_TIMEOUT_MS: '400', DRAIN_IDLE_GRACE_MS: '100' });
    const run = await drive(
      first.port,
      'keepalive',
      async () => {
        await sleep(600);
        first.child.kill('SIGTERM');
        await first.exited;
      },
      { rate: 20, path: '/slow?ms=2000' },
    );
    const lostStreams = run.http2.streams.reset + run.http2.streams.cut;
    expect(lostStreams).toBeGreaterThan(0);
    expect(run.http2.lost.length).toBe(lostStreams);
    expect(run.http2.lost[0]).toMatchObject({ session: 1, stream: expect.any(Number) });
    expect((run.load.failuresByCause.cut_in_flight ?? 0) + (run.load.failuresByCause.stream_reset ?? 0)).toBe(
      lostStreams,
    );
  }, 30_000);

  /** An in-process h2c server that refuses the first stream it gets with REFUSED_STREAM, and answers the rest. */
  async function refusingServer(): Promise<number> {
    const server = http2.createServer();
    let refused = false;
    server.on('stream', (stream) => {
      if (!refused) {
        refused = true;
        stream.on('error', () => {});
        return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      }
      stream.respond({ ':status': 200, 'x-server-pid': String(process.pid) });
      stream.end(`OK. Handled by PID: ${process.pid}\n`);
    });
    inProcess.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as net.AddressInfo).port;
  }

  it('counts a REFUSED_STREAM as refused, not lost; with retryRefused it goes again on another session and is answered', async () => {
    const plain = await drive(await refusingServer(), 'keepalive', () => sleep(500), { rate: 40 });
    expect(plain.http2.streams.refused).toBe(1);
    expect(plain.load.failuresByCause).toEqual({ refused_stream: 1 });
    expect(plain.http2.streams.retried).toBe(0);
    expect(plain.http2.goaways.count).toBe(0);

    const retried = await drive(await refusingServer(), 'keepalive', () => sleep(500), {
      rate: 40,
      retryRefused: true,
    });
    expect(retried.load.failed).toBe(0);
    expect(retried.http2.streams).toMatchObject({ refused: 1, retried: 1, answeredAfterRetry: 1 });
    // Sent again on a session newer than the one that refused it.
    expect(retried.http2.sessions).toBeGreaterThanOrEqual(2);
  }, 30_000);
});
