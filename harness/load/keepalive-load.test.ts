// The keep-alive load's accounting against real local servers: every request
// written ends answered, failed or in flight at stop, a timeout is counted
// once, and stop() halts the clients at once.
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startKeepAliveLoad } from './keepalive-load.js';
import { Recorder } from './recorder.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/** A keep-alive server answering like ours; `hold(n)` true leaves request n unanswered. */
async function serve(hold: (n: number) => boolean = () => false): Promise<{ url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  const server = http.createServer((_req, res) => {
    arrivals.push(Date.now());
    if (hold(arrivals.length)) return;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Server-Pid': String(process.pid), 'X-Server-Version': 'v1' });
    res.end(`OK. Handled by PID: ${process.pid}\n`);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, arrivals };
}

const balanced = (s: ReturnType<Recorder['snapshot']>) => s.written === s.answered + s.failed + s.inFlightAtStop;

describe('startKeepAliveLoad', () => {
  it('accounts for every request it wrote, with the version each response carried', async () => {
    const { url } = await serve();
    const recorder = new Recorder(100, 1000);
    const load = startKeepAliveLoad(
      { url, connections: 10, maxSeconds: 10, timeoutSeconds: 5, settleMs: 1000 },
      recorder,
    );
    await sleep(800);
    await load.stop();
    const snapshot = recorder.snapshot();
    expect(snapshot.answered).toBeGreaterThan(100);
    expect(snapshot.failed).toBe(0);
    expect(balanced(snapshot)).toBe(true);
    expect(snapshot.pids).toEqual([expect.objectContaining({ pid: process.pid, versions: ['v1'] })]);
  });

  it('counts a request that timed out once, as a timeout, and keeps tracking the next one', async () => {
    // Every 40th request is never answered: autocannon times it out after 1 s,
    // reconnects and writes the next request before it says 'timeout'.
    const { url } = await serve((n) => n % 40 === 0);
    const recorder = new Recorder(100, 5000);
    const load = startKeepAliveLoad(
      { url, connections: 4, maxSeconds: 10, timeoutSeconds: 1, settleMs: 100 },
      recorder,
    );
    await sleep(2500);
    await load.stop();
    const snapshot = recorder.snapshot();
    expect(snapshot.failuresByCause.timeout ?? 0).toBeGreaterThan(0);
    expect(snapshot.failuresByCause.silent_loss ?? 0).toBe(0);
    expect(balanced(snapshot), JSON.stringify(snapshot.failuresByCause)).toBe(true);
  });

  it('writes nothing once stop() is called, and counts what is still unanswered as in flight', async () => {
    const { url, arrivals } = await serve((n) => n > 200);
    const recorder = new Recorder(100, 5000);
    const load = startKeepAliveLoad(
      { url, connections: 5, maxSeconds: 10, timeoutSeconds: 5, settleMs: 200 },
      recorder,
    );
    while (arrivals.length < 200) await sleep(10);
    await sleep(100);
    const stoppedAt = Date.now();
    await load.stop();
    expect(arrivals.filter((at) => at > stoppedAt + 20)).toEqual([]);
    const snapshot = recorder.snapshot();
    expect(snapshot.inFlightAtStop).toBe(5);
    expect(balanced(snapshot)).toBe(true);
  });
});
