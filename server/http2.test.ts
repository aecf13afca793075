// HTTP/2 beside HTTP/1.1 (http2.ts) and the drain's lines 10 and 11
// (drain.ts), against a real server process.
import http2 from 'node:http2';
import tls from 'node:tls';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, RawConnection, cleanup, startReadyServer } from '../test/processes.js';
import { FRAME, RawH2Client } from '../test/h2-raw-client.js';
import { protocolOf } from './http2.js';
import { NOTICE_LAST_STREAM_ID } from './drain.js';

afterEach(cleanup);

const TLS = { TLS_CERT: join(FIXTURES, 'tls/self-signed.crt'), TLS_KEY: join(FIXTURES, 'tls/self-signed.key') };

/** One request over Node's HTTP/2 client: status, headers and body, or the error's code. */
function request(
  session: http2.ClientHttp2Session,
  path: string,
  options: { method?: string; body?: string } = {},
): Promise<{ status: number; pid: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ':path': path, ':method': options.method ?? 'GET' });
    } catch (error) {
      // Node 20 refuses a stream on a session that is going at once; Node 24 through the stream's error.
      return resolve({ error: (error as NodeJS.ErrnoException).code ?? String(error) });
    }
    let status = 0;
    let pid = 0;
    let body = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      pid = Number(headers['x-server-pid']);
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, pid, body }));
    stream.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: `${error.code ?? error.message}${stream.rstCode ? ` rst ${stream.rstCode}` : ''}` }),
    );
    stream.end(options.body);
  });
}

describe('HTTP/2 beside HTTP/1.1', () => {
  it('tells the protocols apart by the first bytes, waiting while they could still be either', () => {
    expect(protocolOf(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'))).toBe('h2');
    expect(protocolOf(Buffer.from('PRI '))).toBe('h2');
    for (const start of ['P', 'PR', 'PRI', '']) expect(protocolOf(Buffer.from(start))).toBe('undecided');
    for (const start of ['POST / HTTP/1.1\r\n', 'PUT', 'PATCH', 'GET / HTTP/1.1\r\n', 'PRIX'])
      expect(protocolOf(Buffer.from(start))).toBe('http/1.1');
  });

  it('answers h2c with prior knowledge and HTTP/1.1 on the one port, with the PID in both', async () => {
    const server = await startReadyServer();
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      const answers = await Promise.all([request(session, '/'), request(session, '/')]);
      expect(answers[0]).toEqual({
        status: 200,
        pid: server.child.pid,
        body: `OK. Handled by PID: ${server.child.pid}\n`,
      });
      expect(answers[1]).toMatchObject({ status: 200, pid: server.child.pid });
      // The session counts as one connection, and the /info stream as the one request in flight.
      const info = (await request(session, '/info')) as { body: string };
      expect(JSON.parse(info.body)).toMatchObject({ connections: 1, inFlight: 1 });
      expect(await request(session, '/submit', { method: 'POST', body: 'x'.repeat(10_000) })).toMatchObject({
        status: 200,
        pid: server.child.pid,
      });
      expect(await request(session, '/ws')).toMatchObject({ status: 426 });
      const h1 = await new RawConnection(server.port).request('/');
      expect([h1.status, Number(h1.headers['x-server-pid'])]).toEqual([200, server.child.pid]);
    } finally {
      session.destroy();
    }
  });

  it('answers h2 through ALPN and HTTP/1.1 over TLS', async () => {
    const server = await startReadyServer(TLS);
    const session = http2.connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false });
    try {
      expect(await request(session, '/')).toMatchObject({ status: 200, pid: server.child.pid });
      expect((session.socket as unknown as { alpnProtocol: string }).alpnProtocol).toBe('h2');
      const h1 = await fetchOverTls(server.port);
      expect(h1).toEqual({ status: 200, alpn: 'http/1.1' });
    } finally {
      session.destroy();
    }
  });

  it('HTTP2=off serves HTTP/1.1 alone: a client with prior knowledge is not understood', async () => {
    const server = await startReadyServer({ HTTP2: 'off' });
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    session.on('error', () => {});
    try {
      expect(await request(session, '/')).toHaveProperty('error');
      expect((await new RawConnection(server.port).request('/')).status).toBe(200);
    } finally {
      session.destroy();
    }
  });
});

/** GET / over TLS offering only http/1.1: its status and the protocol the handshake chose. */
function fetchOverTls(port: number): Promise<{ status: number; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] },
      () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    let head = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (head += chunk));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), alpn: socket.alpnProtocol }));
    socket.on('error', reject);
  });
}

describe('drain contract, HTTP/2', () => {
  /**
   * A client whose request crosses the server's first GOAWAY: it opens one
   * more stream the moment it reads a GOAWAY, before it answers any PING
   * that follows (as a stream already on its way would be).
   */
  async function crossingClient(port: number) {
    const client = new RawH2Client(port);
    await client.open();
    const slow = client.get('/slow?ms=400');
    let crossing: number | undefined;
    client.onFrame = (f) => {
      if (f.type === FRAME.GOAWAY && crossing === undefined) crossing = client.get('/');
    };
    await client.until(() => client.frames.some((f) => f.type === FRAME.SETTINGS));
    return { client, slow, crossing: () => crossing };
  }

  it('10, 11. a notice (2^31-1), a PING, the final GOAWAY with the last stream taken; streams at or below it finish; exit 0', async () => {
    const server = await startReadyServer();
    const { client, slow, crossing } = await crossingClient(server.port);
    server.child.kill('SIGTERM');
    expect(await server.waitFor('goaway')).toMatchObject({ sessions: 1, mode: 'two-phase' });
    await client.until(() => client.outcome(slow).how !== 'none' && client.outcome(crossing()!).how !== 'none');

    const [notice, final] = client.goaways;
    expect(notice).toMatchObject({ lastStreamId: NOTICE_LAST_STREAM_ID, code: 0 });
    // The PING comes between the notice and the final GOAWAY, and the final one names the crossing stream: it was taken.
    const types = client.frames.map((f) => f.type).filter((t) => t === FRAME.GOAWAY || t === FRAME.PING);
    expect(types.slice(0, 3)).toEqual([FRAME.GOAWAY, FRAME.PING, FRAME.GOAWAY]);
    expect(final).toMatchObject({ lastStreamId: crossing(), code: 0 });
    expect(client.outcome(crossing()!)).toEqual({ how: 'answered' });
    expect(client.outcome(slow)).toEqual({ how: 'answered' });
    // Every later GOAWAY repeats the final id or a lower one: never one that takes back a refusal.
    expect(client.goaways.slice(1).every((g) => g.lastStreamId <= crossing()!)).toBe(true);

    await client.closed; // 11: the session closes once its last stream is done
    expect(await server.exited).toBe(0);
    expect(server.logs.find((l) => l.event === 'exit')).toMatchObject({ code: 0 });
  });

  it('10. DRAIN_GOAWAY=one-shot, the control: the final GOAWAY alone, and the crossing stream is never processed', async () => {
    const server = await startReadyServer({ DRAIN_GOAWAY: 'one-shot' });
    const { client, slow, crossing } = await crossingClient(server.port);
    server.child.kill('SIGTERM');
    expect(await server.waitFor('goaway')).toMatchObject({ sessions: 1, mode: 'one-shot' });
    await client.until(() => client.outcome(slow).how !== 'none');
    await client.closed;

    expect(client.goaways[0]).toMatchObject({ lastStreamId: slow, code: 0 });
    expect(client.goaways.every((g) => g.lastStreamId === slow)).toBe(true);
    expect(client.outcome(slow)).toEqual({ how: 'answered' });
    // Above the last stream id: the server never processed it; only the client can send it again.
    expect(crossing()).toBeGreaterThan(slow);
    expect(client.outcome(crossing()!)).toEqual({ how: 'none' });
    expect(await server.exited).toBe(0);
  });

  it('10. a session begun while draining gets the two GOAWAYs at once and is answered', async () => {
    const server = await startReadyServer({ DRAIN_LISTEN_GRACE_MS: '1500', DRAIN_IDLE_GRACE_MS: '1000' });
    server.child.kill('SIGTERM');
    await server.waitFor('drain_started');
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    const goaways: number[] = [];
    session.on('goaway', (_code, last) => goaways.push(last));
    session.on('error', () => {});
    const answer = await request(session, '/');
    expect(answer).toMatchObject({ status: 200, pid: server.child.pid });
    await new Promise((resolve) => session.once('close', resolve));
    expect(goaways[0]).toBe(NOTICE_LAST_STREAM_ID);
    expect(await server.exited).toBe(0);
  });

  it('11. at the deadline the sessions left are destroyed, their open streams counted as cut; exit 1', async () => {
    const server = await startReadyServer({ DRAIN_TIMEOUT_MS: '1500', DRAIN_IDLE_GRACE_MS: '500' });
    const client = new RawH2Client(server.port);
    await client.open();
    const stuck = client.get('/slow?ms=30000');
    await server.waitFor('listening');
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    expect(await server.waitFor('drain_deadline')).toMatchObject({ cutConnections: 1, cutRequests: 1 });
    await client.closed;
    expect(client.outcome(stuck).how).not.toBe('answered');
    expect(await server.exited).toBe(1);
  });
  it('10. over TLS too: the notice, then the final GOAWAY naming the stream in flight, which finishes', async () => {
    const server = await startReadyServer(TLS);
    const session = http2.connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false });
    const goaways: number[] = [];
    session.on('goaway', (_code, last) => goaways.push(last));
    session.on('error', () => {});
    const slow = request(session, '/slow?ms=400');
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.child.kill('SIGTERM');
    expect(await slow).toMatchObject({ status: 200, pid: server.child.pid });
    expect(goaways.slice(0, 2)).toEqual([NOTICE_LAST_STREAM_ID, 1]);
    expect(await server.exited).toBe(0);
  });

  it('2. steering moves new HTTP/2 connections as it moves HTTP/1.1 ones: a steered server gets none', async () => {
    const old = await startReadyServer({ DRAIN_STEER_SETTLE_MS: '5000', DRAIN_IDLE_GRACE_MS: '5000' });
    const successor = await startReadyServer({ PORT: String(old.port) });
    old.child.kill('SIGTERM');
    await old.waitFor('steered');
    const pids = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const session = http2.connect(`http://127.0.0.1:${old.port}`);
      const answer = await request(session, '/');
      session.destroy();
      if ('pid' in answer) pids.add(answer.pid);
    }
    expect([...pids]).toEqual([successor.child.pid]);
  });
  it('10. among concurrent streams (answers and event streams being written), the notice lands between frames: every stream the server took is answered', async () => {
    // No steer: its probes through the port would be served too.
    const server = await startReadyServer({ DRAIN_STEER: 'off' });
    const outcomes = new Map<string, number>();
    const count = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    const sessions = Array.from({ length: 6 }, () => http2.connect(`http://127.0.0.1:${server.port}`));
    for (const session of sessions)
      session.on('error', (error: NodeJS.ErrnoException) => count(`session ${error.code}`));
    let stop = false;
    // Each loop sends its next request once the last one ended, until the session is going (Node's client then
    // opens no stream on it: ERR_HTTP2_GOAWAY_SESSION, nothing sent) or the test stops it.
    const loop = async (session: http2.ClientHttp2Session, path: string) => {
      for (let sent = 0; !stop && sent < 2_000; sent++) {
        const answer = await request(session, path);
        // Node 24 gives the stream it did not send an rstCode too: it is the same refusal to open one.
        if ('error' in answer)
          return count(answer.error.replace(/^ERR_HTTP2_GOAWAY_SESSION.*/, 'ERR_HTTP2_GOAWAY_SESSION'));
        count(answer.status === 200 ? 'answered' : `status ${answer.status}`);
      }
    };
    const loops = sessions.flatMap((session) => [
      ...Array.from({ length: 4 }, () => loop(session, '/')),
      loop(session, '/slow?ms=50'),
      loop(session, '/events?every=10'),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    stop = true;
    await Promise.all(loops);
    for (const session of sessions) session.destroy();
    const { answered = 0, ...others } = Object.fromEntries(outcomes);
    expect(answered).toBeGreaterThan(100);
    // Every stream the server took was answered: what it served is what the client saw answered.
    expect(server.logs.find((l) => l.event === 'exit')).toMatchObject({ code: 0, served: answered });
    // Every loop ended by its session going away: Node's client opens no stream on a session told to go
    // (ERR_HTTP2_GOAWAY_SESSION), and fails one it had queued but not yet written with REFUSED_STREAM (its
    // own GOAWAY in answer stops nghttp2 from sending it). No session error, no stream reset or cut.
    const refusedUnsent = others['ERR_HTTP2_STREAM_ERROR rst 7'] ?? 0;
    expect(others).toEqual({
      ERR_HTTP2_GOAWAY_SESSION: sessions.length * 6 - refusedUnsent,
      ...(refusedUnsent ? { 'ERR_HTTP2_STREAM_ERROR rst 7': refusedUnsent } : {}),
    });
  });
});
