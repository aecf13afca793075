// The long lane against small local servers: one that answers slowly, one
// that drops a request it already has.
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startLongLane } from './long-lane.js';
import { Recorder } from './recorder.js';
import { checkOurServer } from './response-check.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Answers every request after `delayMs` as our server does; `drop(n)` true destroys the n-th request's connection instead. */
async function serve(delayMs: number, drop: (n: number) => boolean = () => false): Promise<number> {
  let n = 0;
  const server = http.createServer((request, response) => {
    const index = ++n;
    setTimeout(() => {
      if (drop(index)) return request.socket.destroy();
      response.setHeader('X-Server-Pid', String(process.pid));
      response.setHeader('X-Server-Version', 'v1');
      response.end(`OK. Handled by PID: ${process.pid}\n`);
    }, delayMs);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const lane = (port: number, connections: number) => ({
  host: '127.0.0.1',
  port,
  path: '/slow',
  connections,
  timeoutSeconds: 5,
  check: checkOurServer,
});

describe('startLongLane', () => {
  it('keeps one request in flight per connection, and at stop waits for them instead of abandoning them', async () => {
    const port = await serve(150);
    const recorder = new Recorder(100, 100);
    const running = startLongLane(lane(port, 2), recorder);
    await sleep(400);
    await running.stop();
    const snapshot = recorder.snapshot();
    expect(snapshot.failed).toBe(0);
    expect(snapshot.inFlightAtStop).toBe(0);
    expect(snapshot.written).toBe(snapshot.answered);
    // 2 connections × 150 ms requests over 400 ms, plus the two finished after stop.
    expect(snapshot.answered).toBeGreaterThanOrEqual(4);
    expect(snapshot.answered).toBeLessThanOrEqual(8);
    expect(snapshot.buckets.reduce((n, b) => n + (b.latency?.count ?? 0), 0)).toBe(snapshot.answered);
  });

  it('names a request whose connection the server dropped after taking it: cut_in_flight', async () => {
    const port = await serve(50, (n) => n === 2);
    const recorder = new Recorder(100, 100);
    const running = startLongLane(lane(port, 1), recorder);
    await sleep(300);
    await running.stop();
    const snapshot = recorder.snapshot();
    expect(snapshot.failuresByCause).toEqual({ cut_in_flight: 1 });
    expect(snapshot.answered).toBeGreaterThanOrEqual(2);
    expect(snapshot.written).toBe(snapshot.answered + snapshot.failed);
  });

  it('calls a connection nobody accepted refused, not cut', async () => {
    const port = await serve(0);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const recorder = new Recorder(100, 100);
    const running = startLongLane(lane(port, 1), recorder);
    await sleep(150);
    await running.stop();
    const snapshot = recorder.snapshot();
    expect(snapshot.failuresByCause.connection_refused).toBeGreaterThan(0);
    expect(snapshot.failuresByCause.cut_in_flight).toBeUndefined();
    // Retried after a pause, not in a spin.
    expect(snapshot.written).toBeLessThan(10);
  });
});
