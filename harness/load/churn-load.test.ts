// The new-connection client against servers that misbehave in every way it
// must tell apart: each request ends in exactly one outcome.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getBytes, requestOnce, startChurnLoad } from './churn-load.js';
import { Recorder } from './recorder.js';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A TCP server that reads the request head and then does `answer` with the socket. */
async function tcpServer(answer: (socket: net.Socket, head: string) => void): Promise<number> {
  const server = net.createServer((socket) => {
    let head = '';
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      head += chunk;
      if (head.includes('\r\n\r\n')) answer(socket, head);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

const ours = (pid: number) => {
  const body = `OK. Handled by PID: ${pid}\n`;
  return `HTTP/1.1 200 OK\r\nX-Server-Pid: ${pid}\r\nX-Server-Version: v7\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
};
const target = (port: number, timeoutSeconds = 5) => ({ host: '127.0.0.1', port, timeoutSeconds });

describe('requestOnce', () => {
  it('writes one GET that asks for the connection to close, and reads the PID and version', async () => {
    let seen = '';
    const port = await tcpServer((socket, head) => ((seen = head), socket.end(ours(42))));
    expect(await requestOnce(target(port), '/x?y=1')).toMatchObject({ ok: true, pid: 42, version: 'v7' });
    expect(seen).toBe(`GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(getBytes('::1', 80, '/').toString()).toContain('Host: [::1]:80\r\n');
  });

  it('reads a chunked body, a body that runs until the close, and one that arrives a byte at a time', async () => {
    const body = 'OK. Handled by PID: 7\n';
    const chunked = await tcpServer((s) =>
      s.end(
        `HTTP/1.1 200 OK\r\nX-Server-Pid: 7\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n${body.slice(0, 5)}\r\n${(body.length - 5).toString(16)}\r\n${body.slice(5)}\r\n0\r\n\r\n`,
      ),
    );
    expect(await requestOnce(target(chunked))).toMatchObject({ ok: true, pid: 7 });
    const untilClose = await tcpServer((s) => s.end(`HTTP/1.1 200 OK\r\nX-Server-Pid: 7\r\n\r\n${body}`));
    expect(await requestOnce(target(untilClose))).toMatchObject({ ok: true, pid: 7 });
    const trickle = await tcpServer((s) => {
      const bytes = Buffer.from(ours(9));
      let i = 0;
      const next = () => (i < bytes.length ? (s.write(bytes.subarray(i, ++i)), setImmediate(next)) : s.end());
      next();
    });
    expect(await requestOnce(target(trickle))).toMatchObject({ ok: true, pid: 9 });
  });

  it('completes on the response of a server that ignores Connection: close', async () => {
    const port = await tcpServer((socket) =>
      socket.write(ours(5).replace('Connection: close', 'Connection: keep-alive')),
    );
    expect(await requestOnce(target(port))).toMatchObject({ ok: true, pid: 5 });
  });

  it('tells apart a close without a response, a cut response, a reset, a refusal and a timeout', async () => {
    const silent = await tcpServer((socket) => socket.end());
    expect(await requestOnce(target(silent))).toMatchObject({
      ok: false,
      cause: 'silent_loss',
      connectionFailed: false,
    });
    const cut = await tcpServer((socket) => socket.end(ours(3).slice(0, -5)));
    expect(await requestOnce(target(cut))).toMatchObject({ ok: false, cause: 'corrupt_body' });
    const reset = await tcpServer((socket) => socket.resetAndDestroy());
    expect(await requestOnce(target(reset))).toMatchObject({ ok: false, cause: 'connection_reset' });
    // Half a response and the reset in one tick: the client reads both at once, and libuv says only EOF (peer-reset.ts).
    const resetMidResponse = await tcpServer(
      (socket) => (socket.write(ours(3).slice(0, -5)), socket.resetAndDestroy()),
    );
    expect(await requestOnce(target(resetMidResponse))).toMatchObject({ ok: false, cause: 'connection_reset' });
    const closed = await tcpServer(() => {});
    await new Promise((r) => servers.pop()!.close(r));
    expect(await requestOnce(target(closed))).toMatchObject({
      ok: false,
      cause: 'connection_refused',
      connectionFailed: true,
    });
    const mute = await tcpServer(() => {});
    expect(await requestOnce(target(mute, 0.2))).toMatchObject({ ok: false, cause: 'timeout' });
    const wrong = await tcpServer((socket) => socket.end(ours(3).replace('PID: 3', 'PID: 4')));
    expect(await requestOnce(target(wrong))).toMatchObject({ ok: false, cause: 'corrupt_body' });
    const garbage = await tcpServer((socket) => socket.end('SSH-2.0-OpenSSH\r\n\r\n'));
    expect(await requestOnce(target(garbage))).toMatchObject({ ok: false, cause: 'corrupt_body' });
  });

  it('gives up on a request when told to, as stopped', async () => {
    const mute = await tcpServer(() => {});
    const giveUp = new AbortController();
    const pending = requestOnce(target(mute), '/', giveUp.signal);
    setTimeout(() => giveUp.abort(), 50);
    expect(await pending).toMatchObject({ ok: false, cause: 'stopped' });
  });
});

describe('startChurnLoad', () => {
  it('accounts for every request it wrote: answered, failed, or in flight at stop', async () => {
    let n = 0;
    // Every 50th connection is closed unanswered; the rest are answered.
    const port = await tcpServer((socket) => (++n % 50 === 0 ? socket.end() : socket.end(ours(11))));
    const recorder = new Recorder(100, 1000);
    const load = startChurnLoad(
      { host: '127.0.0.1', port, concurrency: 10, maxSeconds: 10, timeoutSeconds: 5, settleMs: 1000 },
      recorder,
    );
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    const snapshot = recorder.snapshot();
    expect(snapshot.answered).toBeGreaterThan(100);
    expect(snapshot.failuresByCause.silent_loss).toBe(Math.floor(n / 50));
    expect(snapshot.written).toBe(snapshot.answered + snapshot.failed + snapshot.inFlightAtStop);
  });
});
