// acceptEagerly against real sockets: connections queued while the server
// was not yet accepting are all taken in the loop turn that accepts the
// first, where Node alone takes one per turn.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptQueueLength, inspectSocket, listenReusePort } from '../native/index.js';
import { acceptEagerly } from './accept.js';

const servers: http.Server[] = [];
const clients: net.Socket[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.destroy());
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A listener with `count` handshakes completed by the kernel and not accepted, and an HTTP server not yet on it. */
async function queuedListener(count: number) {
  const fd = listenReusePort('127.0.0.1', 0);
  const port = inspectSocket(fd).port!;
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => resolve());
          socket.on('error', () => {});
          clients.push(socket);
        }),
    ),
  );
  expect(acceptQueueLength(fd)).toBe(count);
  const server = http.createServer((_req, res) => res.end('ok'));
  servers.push(server);
  return { fd, server };
}

/** Starts serving fd and counts the connections accepted in the loop turn that accepted the first (until its check phase, setImmediate). */
function acceptedInFirstTurn(server: http.Server, fd: number): Promise<number> {
  let accepted = 0;
  return new Promise((resolve) => {
    server.on('connection', () => {
      if (accepted++ === 0) setImmediate(() => resolve(accepted));
    });
    server.listen({ fd });
  });
}

describe('acceptEagerly', () => {
  it('takes every queued connection in the turn that accepts the first; Node alone takes one', async () => {
    const eager = await queuedListener(20);
    acceptEagerly(eager.server, eager.fd, 64);
    expect(await acceptedInFirstTurn(eager.server, eager.fd)).toBe(20);
    expect(acceptQueueLength(eager.fd)).toBe(0);

    const plain = await queuedListener(20);
    expect(await acceptedInFirstTurn(plain.server, plain.fd)).toBe(1);
  });

  it('takes at most the batch besides the one Node accepted, and the rest in later turns', async () => {
    const { fd, server } = await queuedListener(10);
    acceptEagerly(server, fd, 4);
    expect(await acceptedInFirstTurn(server, fd)).toBe(5);
    await new Promise((r) => setTimeout(r, 50));
    expect(acceptQueueLength(fd)).toBe(0);
  });

  it("counts what it accepts as the server's connections: close() calls back only after they are gone", async () => {
    const { fd, server } = await queuedListener(5);
    acceptEagerly(server, fd, 64);
    expect(await acceptedInFirstTurn(server, fd)).toBe(5);
    const count = await new Promise<number>((resolve, reject) =>
      server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
    );
    expect(count).toBe(5);
    // The drain waits on this callback (drain.ts, line 6).
    let closed = false;
    server.close(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    clients.splice(0).forEach((c) => c.destroy());
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(true);
  });

  it("answers on the connections it accepts like on Node's own", async () => {
    const { fd, server } = await queuedListener(0);
    acceptEagerly(server, fd, 64);
    await new Promise<void>((r) => server.listen({ fd }, r));
    const port = inspectSocket(fd).port!;
    const answers = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string>((resolve, reject) => {
            http
              .get({ host: '127.0.0.1', port, agent: false }, (res) => {
                let body = '';
                res.on('data', (chunk: Buffer) => (body += chunk));
                res.on('end', () => resolve(body));
              })
              .on('error', reject);
          }),
      ),
    );
    expect(answers).toEqual(Array(8).fill('ok'));
  });
});
