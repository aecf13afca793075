// The open model's load against real local servers: requests go out on the
// schedule whatever is outstanding, so a frozen server is charged for every
// user who arrived meanwhile (the closed loop, beside it, for only as many
// as it has connections); a keep-alive connection is reused most recently
// used first and retired after Connection: close; and every request that
// fell due ends exactly once, those still waiting for a connection
// included.
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startReadyServer } from '../../test/processes.js';
import { NO_SCHEDULE, ScheduleRecorder } from './arrivals.js';
import { startChurnLoad } from './churn-load.js';
import type { LoadMode } from './modes.js';
import { keepAliveTimeoutMs, type OpenLoadOptions, startOpenLoad } from './open-load.js';
import { Recorder } from './recorder.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
  await cleanup();
});

/** An in-process server answering like ours; `respond` may delay or close. */
async function serve(
  respond: (n: number, res: http.ServerResponse) => void = (_n, res) => res.end(`OK. Handled by PID: ${process.pid}\n`),
): Promise<{ port: number; sockets: Set<net.Socket> }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.setHeader('X-Server-Pid', String(process.pid));
    respond(++count, res);
  });
  server.on('connection', (socket) => sockets.add(socket));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, sockets };
}

const base = (port: number, mode: LoadMode): OpenLoadOptions => ({
  mode,
  host: '127.0.0.1',
  port,
  ratePerSecond: 200,
  maxConnections: 50,
  maxSeconds: 30,
  timeoutSeconds: 5,
  settleMs: 1000,
});
const balanced = (s: ReturnType<Recorder['snapshot']>) => s.written === s.answered + s.failed + s.inFlightAtStop;

describe('startOpenLoad', () => {
  it.each(['keepalive', 'churn'] as const)(
    '%s: charges a frozen server for every request due while it was stopped; a closed loop counts only its connections',
    async (mode) => {
      const server = await startReadyServer();
      const freeze = async () => {
        await sleep(400);
        server.child.kill('SIGSTOP');
        await sleep(500);
        server.child.kill('SIGCONT');
        await sleep(400);
      };
      // The open load: 400 requests per second, each timed from when it was due.
      const open = new Recorder(100, 100);
      const schedule = new ScheduleRecorder(400, 256, open.startedAt, 100);
      const load = startOpenLoad(
        { ...base(server.port, mode), ratePerSecond: 400, maxConnections: 256 },
        open,
        schedule,
      );
      await freeze();
      await load.stop();
      // The closed loop, beside it: 10 loops, each waiting for its answer before the next request.
      const closed = new Recorder(100, 100);
      const loops = startChurnLoad(
        { host: '127.0.0.1', port: server.port, concurrency: 10, maxSeconds: 30, timeoutSeconds: 5, settleMs: 1000 },
        closed,
      );
      await freeze();
      await loops.stop();

      const over = (r: Recorder, ms: number) =>
        r.snapshot().tail.responses.filter(([, latency]) => latency > ms).length;
      // Due during the first 300 ms of the 500 ms freeze: at 400/s, 120 requests waited over 200 ms.
      expect(over(open, 200)).toBeGreaterThanOrEqual(60);
      expect(over(closed, 200)).toBeLessThanOrEqual(20);
      expect(open.snapshot().failed).toBe(0);
      expect(balanced(open.snapshot())).toBe(true);
      const record = schedule.record();
      expect(record.due).toBe(open.snapshot().written);
      expect(record.late).toBe(0); // the harness was on time: the wait was the server's
    },
    20_000,
  );

  it('keep-alive: reuses connections, opens a new one after Connection: close, and loses nothing', async () => {
    // Every 7th response says Connection: close, as a draining server's do.
    const { port, sockets } = await serve((n, res) => {
      if (n % 7 === 0) res.setHeader('Connection', 'close');
      res.end(`OK. Handled by PID: ${process.pid}\n`);
    });
    const recorder = new Recorder(100, 100);
    const schedule = new ScheduleRecorder(200, 50, recorder.startedAt, 100);
    const load = startOpenLoad(base(port, 'keepalive'), recorder, schedule);
    await sleep(700);
    await load.stop();
    const snapshot = recorder.snapshot();
    expect(snapshot.answered).toBeGreaterThan(100);
    expect(snapshot.failed).toBe(0);
    expect(balanced(snapshot)).toBe(true);
    // About one connection per 7 requests: reused until the server said close, not one per request.
    expect(sockets.size).toBeGreaterThanOrEqual(Math.floor(snapshot.answered / 7));
    expect(sockets.size).toBeLessThan(snapshot.answered / 3);
  });

  it.each(['keepalive', 'churn'] as const)(
    '%s: a request due while every connection is busy waits its turn, and one still waiting at stop is counted in flight',
    async (mode) => {
      // Each answer takes 300 ms; two connections at most, 50 requests a second.
      const { port } = await serve((_n, res) => setTimeout(() => res.end(`OK. Handled by PID: ${process.pid}\n`), 300));
      const recorder = new Recorder(100, 100);
      const schedule = new ScheduleRecorder(50, 2, recorder.startedAt, 100);
      const load = startOpenLoad(
        { ...base(port, mode), ratePerSecond: 50, maxConnections: 2, settleMs: 100 },
        recorder,
        schedule,
      );
      await sleep(1000);
      await load.stop();
      const snapshot = recorder.snapshot();
      const record = schedule.record();
      expect(record.connectionsMax).toBe(2);
      expect(record.waited).toBeGreaterThan(20);
      expect(record.waitedLate).toBeGreaterThan(10);
      expect(snapshot.inFlightAtStop).toBeGreaterThan(10);
      expect(balanced(snapshot)).toBe(true);
      expect(record.due).toBe(snapshot.written);
      // Latency counts from when each was due: the waits are in it.
      expect(Math.max(...snapshot.tail.responses.map(([, latency]) => latency))).toBeGreaterThan(600);
    },
  );

  it.each(['keepalive', 'churn'] as const)(
    '%s: a closed port fails each request as it falls due (connection_refused), at the rate',
    async (mode) => {
      const { port } = await serve();
      await new Promise<void>((r) => servers.pop()!.close(() => r()));
      const recorder = new Recorder(100, 100);
      const load = startOpenLoad({ ...base(port, mode), ratePerSecond: 100 }, recorder, NO_SCHEDULE);
      await sleep(500);
      await load.stop();
      const snapshot = recorder.snapshot();
      expect(Object.keys(snapshot.failuresByCause)).toEqual(['connection_refused']);
      // About 50 in 500 ms: one per due request, never a reconnect storm.
      expect(snapshot.failed).toBeGreaterThan(30);
      expect(snapshot.failed).toBeLessThan(70);
      expect(balanced(snapshot)).toBe(true);
    },
  );

  it.each(['keepalive', 'churn'] as const)(
    '%s: at full speed keeps the given number of requests in flight, no more connections than that',
    async (mode) => {
      let inFlight = 0;
      let most = 0;
      const { port } = await serve((_n, res) => {
        most = Math.max(most, ++inFlight);
        setTimeout(() => {
          inFlight--;
          res.end(`OK. Handled by PID: ${process.pid}\n`);
        }, 5);
      });
      const recorder = new Recorder(100, 100);
      const schedule = new ScheduleRecorder(1, 4, recorder.startedAt, 100);
      const load = startOpenLoad({ ...base(port, mode), ratePerSecond: { concurrency: 4 } }, recorder, schedule);
      await sleep(500);
      await load.stop();
      const snapshot = recorder.snapshot();
      expect(snapshot.answered).toBeGreaterThan(100);
      expect(snapshot.failed).toBe(0);
      expect(most).toBe(4);
      expect(schedule.record().connectionsMax).toBeLessThanOrEqual(4);
    },
  );
});

describe('keepAliveTimeoutMs', () => {
  it("reads the server's Keep-Alive timeout, in ms", () => {
    expect(keepAliveTimeoutMs('timeout=5')).toBe(5000);
    expect(keepAliveTimeoutMs('timeout=2, max=100')).toBe(2000);
    expect(keepAliveTimeoutMs('max=100; timeout=7')).toBe(7000);
    expect(keepAliveTimeoutMs('max=100')).toBeUndefined();
    expect(keepAliveTimeoutMs(undefined)).toBeUndefined();
  });
});
