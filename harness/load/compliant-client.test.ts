// autocannon against a server that closes every connection after its
// response (as a draining server does): by itself it loses requests; through
// makeCompliant (used by startKeepAliveLoad) it loses none.
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClientShape, makeCompliant } from './compliant-client.js';
import { startKeepAliveLoad } from './keepalive-load.js';
import { Recorder } from './recorder.js';

let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Server-Pid': String(process.pid), Connection: 'close' });
    res.end(`OK. Handled by PID: ${process.pid}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('autocannon and Connection: close', () => {
  it('plain autocannon writes requests on closing sockets and loses them', async () => {
    const result = await autocannon({ url, connections: 10, duration: 1 });
    const lost = result.requests.sent - result.requests.total;
    // Sent but never answered, beyond the at most 10 in flight at the end.
    expect(lost + result.errors).toBeGreaterThan(10);
  });

  it('through makeCompliant every request is answered on a fresh connection', async () => {
    const recorder = new Recorder(100, 1000);
    const load = startKeepAliveLoad(
      { url, connections: 10, maxSeconds: 10, timeoutSeconds: 5, settleMs: 1000 },
      recorder,
    );
    await sleep(1000);
    await load.stop();
    const snapshot = recorder.snapshot();
    expect(snapshot.answered).toBeGreaterThan(100);
    expect(snapshot.failuresByCause).toEqual({});
    expect(snapshot.failed).toBe(0);
  });

  it('counts a request lost to a server-side FIN, which autocannon itself counts nowhere', async () => {
    // Promises keep-alive, then closes right after the response: the next
    // request written on that socket is never answered.
    const rude = http.createServer((req, res) => {
      res.writeHead(200, { 'X-Server-Pid': String(process.pid), 'Content-Type': 'text/plain' });
      res.end(`OK. Handled by PID: ${process.pid}\n`, () => setTimeout(() => req.socket.end(), 5));
    });
    await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r));
    try {
      const recorder = new Recorder(100, 1000);
      const port = (rude.address() as net.AddressInfo).port;
      const load = startKeepAliveLoad(
        { url: `http://127.0.0.1:${port}/`, connections: 5, maxSeconds: 10, timeoutSeconds: 5, settleMs: 1000 },
        recorder,
      );
      await sleep(500);
      await load.stop();
      const snapshot = recorder.snapshot();
      expect(snapshot.answered).toBeGreaterThan(0);
      expect(snapshot.failuresByCause.silent_loss ?? 0).toBeGreaterThan(0);
    } finally {
      rude.closeAllConnections();
      await new Promise<void>((r) => rude.close(() => r()));
    }
  });
});

describe("autocannon's private Client API", () => {
  it('is there in the installed autocannon, method by method, and a client without one is named, not patched', async () => {
    const { createRequire } = await import('node:module');
    const Client = createRequire(import.meta.url)('autocannon/lib/httpClient.js') as { prototype: object };
    expect(() => assertClientShape(Object.create(Client.prototype) as object)).not.toThrow();
    const renamed = Object.create(Client.prototype) as Record<string, unknown>;
    renamed._connect = undefined;
    renamed._resetConnection = 'gone';
    expect(() => makeCompliant(renamed as never)).toThrow(
      /^autocannon's Client has no _connect, _resetConnection: the compliant-client adapter .* install autocannon@8/,
    );
  });
});
