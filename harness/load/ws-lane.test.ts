// The WebSocket stream lane against a small local server whose sockets end on
// command: with a close code, an EOF without a close frame, or a reset.
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { messageNumber, startWsLane } from './ws-lane.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** `reset after data`: one more message and the reset in the same tick, so they reach the client in one read (peer-reset.ts). */
type End = { close: number } | 'eof' | 'reset' | 'reset after data';

/** Sends `N` for N = 1, 2, 3, ... every 10 ms; on a reconnect goes on after Last-Event-ID plus `skip`. `end(how)` ends every open socket. */
async function serve(skip = 0) {
  const open = new Set<WebSocket>();
  const server = http.createServer((_request, response) => response.writeHead(404).end());
  const sockets = new WebSocketServer({ server, path: '/ws' });
  sockets.on('connection', (ws, request) => {
    const last = request.headers['last-event-id'];
    let next = last === undefined ? 1 : Number(last) + 1 + skip;
    const timer = setInterval(() => ws.send(`${next++} from the test`), 10);
    ws.on('close', () => clearInterval(timer));
    open.add(ws);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const end = (how: End) => {
    for (const ws of open) {
      // ws keeps its socket private; the test server reaches it to end the connection without a close frame.
      const socket = (ws as unknown as { _socket: net.Socket })._socket;
      if (how === 'eof') socket.end();
      else if (how === 'reset') socket.resetAndDestroy();
      else if (how === 'reset after data') {
        ws.send('999999 the last');
        socket.resetAndDestroy();
      } else ws.close(how.close);
    }
    open.clear();
  };
  return { port, end };
}

const lane = (port: number, path = '/ws') => startWsLane({ host: '127.0.0.1', port, path, connections: 1 });

describe('startWsLane', () => {
  it('comes back after a 1012 close with Last-Event-ID: nothing lost, nothing twice, the code kept', async () => {
    const server = await serve();
    const running = lane(server.port);
    await sleep(100);
    server.end({ close: 1012 });
    await sleep(250);
    await running.stop();
    const record = running.record();
    expect(record.events).toBeGreaterThan(10);
    expect(record.breaks).toEqual([expect.objectContaining({ how: 'close', code: 1012, lost: 0, duplicated: 0 })]);
    expect(record.breaks[0]!.backAfterMs).toBeGreaterThanOrEqual(90);
    expect([record.lostInStream, record.duplicatedInStream, record.unnumbered]).toEqual([0, 0, 0]);
  });

  it('tells an EOF without a close frame from a reset, and counts what a server skips as lost', async () => {
    const server = await serve(2);
    const running = lane(server.port);
    await sleep(100);
    server.end('eof');
    await sleep(250);
    server.end('reset');
    await sleep(250);
    await running.stop();
    expect(running.record().breaks).toEqual([
      expect.objectContaining({ how: 'cut', lost: 2 }),
      expect.objectContaining({ how: 'reset', lost: 2 }),
    ]);
  });

  it('names a reset that came with the last message a reset, though Node saw only an EOF', async () => {
    const server = await serve();
    const running = lane(server.port);
    await sleep(100);
    server.end('reset after data');
    await sleep(250);
    server.end('eof');
    await sleep(250);
    await running.stop();
    expect(running.record().breaks).toEqual([
      expect.objectContaining({ how: 'reset' }),
      expect.objectContaining({ how: 'cut' }),
    ]);
  });

  it('says a socket that could not open failed, and keeps that break open', async () => {
    const server = await serve();
    const running = lane(server.port, '/nope');
    await sleep(150);
    await running.stop();
    expect(running.record().breaks).toEqual([expect.objectContaining({ how: 'error', backAfterMs: null })]);
  });
});

describe('messageNumber', () => {
  it('reads a JSON seq or id, else a leading whole number; anything else has none', () => {
    const text = (s: string) => messageNumber(Buffer.from(s), false);
    expect([text('{"seq":7,"id":2}'), text('{"id":9}'), text('12 4321'), text('12'), text('12.5')]).toEqual([
      7,
      9,
      12,
      12,
      undefined,
    ]);
    expect([text('{"seq":-1}'), text('{"seq":"3"}'), text('{nope'), text('x 12'), text('')]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(messageNumber(Buffer.from('12'), true)).toBeUndefined();
  });
});
