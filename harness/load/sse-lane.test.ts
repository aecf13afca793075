// The stream lane against a small local SSE server whose streams end on
// command, with or without a gap in the ids.
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startSseLane } from './sse-lane.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Sends id 1, 2, 3, ... every 10 ms; on a reconnect goes on after Last-Event-ID plus `skip`. `end(how)` ends every open stream. */
async function serve(skip = 0) {
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((request, response) => {
    const last = request.headers['last-event-id'];
    let next = last === undefined ? 1 : Number(last) + 1 + skip;
    response.writeHead(200, { 'Content-Type': 'text/event-stream' });
    response.write('retry: 20\n\n');
    const timer = setInterval(() => response.write(`id: ${next}\ndata: ${next++}\n\n`), 10);
    response.on('close', () => clearInterval(timer));
    open.add(response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  /**
   * `reset` comes right after a whole event, before the event loop polls
   * again (the response writes on the next tick, the reset on the one after):
   * one read for both at the client (peer-reset.ts).
   */
  const end = (how: 'end' | 'cut' | 'reset') => {
    for (const response of open) {
      if (how === 'cut') response.write('id: 999\ndata: half');
      if (how === 'reset') response.write('data: the last\n\n');
      if (how === 'end') response.end();
      else if (how === 'reset') process.nextTick(() => response.socket?.resetAndDestroy());
      else response.socket?.destroy();
    }
    open.clear();
  };
  return { port, end };
}

describe('startSseLane', () => {
  it('comes back after a clean end with Last-Event-ID: nothing lost, nothing twice, and says how soon', async () => {
    const server = await serve();
    const lane = startSseLane({ host: '127.0.0.1', port: server.port, path: '/events', connections: 2 });
    await sleep(100);
    server.end('end');
    await sleep(150);
    await lane.stop();
    const record = lane.record();
    expect(record.events).toBeGreaterThan(10);
    expect(record.breaks).toHaveLength(2);
    for (const b of record.breaks) {
      expect(b).toMatchObject({ how: 'end', lost: 0, duplicated: 0 });
      // The server asked for 20 ms.
      expect(b.backAfterMs).toBeGreaterThanOrEqual(15);
    }
    expect([record.lostInStream, record.duplicatedInStream, record.unnumbered]).toEqual([0, 0, 0]);
  });

  it('counts the ids a server skips after a reconnect as lost, and names a stream cut mid-event', async () => {
    const server = await serve(3);
    const lane = startSseLane({ host: '127.0.0.1', port: server.port, path: '/events', connections: 1 });
    await sleep(100);
    server.end('cut');
    await sleep(150);
    await lane.stop();
    expect(lane.record().breaks).toEqual([expect.objectContaining({ how: 'cut', lost: 3, duplicated: 0 })]);
    // Counted once, as the break's, not again as a gap within the stream.
    expect(lane.record().lostInStream).toBe(0);
  });

  it('names a reset that came with the last event a reset, though Node saw only an EOF', async () => {
    const server = await serve();
    const lane = startSseLane({ host: '127.0.0.1', port: server.port, path: '/events', connections: 1 });
    await sleep(100);
    server.end('reset');
    await sleep(150);
    await lane.stop();
    expect(lane.record().breaks).toEqual([expect.objectContaining({ how: 'reset' })]);
  });

  it("counts the ids a server sends again after a reconnect once each, as that break's", async () => {
    const server = await serve(-3);
    const lane = startSseLane({ host: '127.0.0.1', port: server.port, path: '/events', connections: 1 });
    await sleep(100);
    server.end('end');
    await sleep(150);
    await lane.stop();
    const record = lane.record();
    expect(record.breaks).toEqual([expect.objectContaining({ how: 'end', lost: 0, duplicated: 3 })]);
    expect([record.lostInStream, record.duplicatedInStream]).toEqual([0, 0]);
  });

  it('keeps one break open while the server refuses, and says it never came back', async () => {
    const server = await serve();
    const lane = startSseLane({ host: '127.0.0.1', port: server.port, path: '/events', connections: 1 });
    await sleep(60);
    const closing = servers.pop()!;
    server.end('end');
    await new Promise((resolve) => closing.close(resolve));
    await sleep(300);
    await lane.stop();
    expect(lane.record().breaks).toEqual([expect.objectContaining({ how: 'end', backAfterMs: null })]);
  });
});

describe('startSseLane against a server that asks for a long retry', () => {
  it('obeys retry: only up to a bound, and its stop cuts the pause short: a target cannot hold the run', async () => {
    // Every stream: one event, then retry: 2147483647 (about 25 days), then the end.
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.end('id: 1\ndata: 1\n\nretry: 2147483647\n\n');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const lane = startSseLane({
      host: '127.0.0.1',
      port: (server.address() as net.AddressInfo).port,
      path: '/',
      connections: 1,
    });
    await sleep(2500);
    const stopping = performance.now();
    await lane.stop();
    // Stopped in the middle of a pause, not after it: well within any run's stop time (a bound, not a speed).
    expect(performance.now() - stopping).toBeLessThan(5000);
    // It came back after the bounded pause (1 s), not after 25 days: at least two streams in 2.5 s.
    expect(lane.record().events).toBeGreaterThanOrEqual(2);
  });
});
