// The server process as users meet it: routes, configuration errors, and
// both ways of getting a listener (SO_REUSEPORT and systemd socket activation).
import { chownSync, existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { listenReusePort } from '../native/index.js';
import {
  cleanup,
  FIXTURES,
  RawConnection,
  SERVER_MAIN,
  startReadyServer,
  startServer,
  tempDir,
  track,
} from '../test/processes.js';
import { readConfig } from './config.js';
import { offerPath } from './handoff.js';
import { processStartTime } from './readiness.js';

afterEach(cleanup);

describe('routes', () => {
  it('answers / with its PID and version, /info, /slow and 404', async () => {
    const server = await startReadyServer({ APP_VERSION: 'v7' });
    const connection = new RawConnection(server.port);
    const pid = String(server.child.pid);

    const root = await connection.request('/');
    expect(root).toMatchObject({ status: 200, body: `OK. Handled by PID: ${pid}\n` });
    expect(root.headers).toMatchObject({ 'x-server-pid': pid, 'x-server-version': 'v7', 'x-server-host': hostname() });
    // The keep-alive timeout it announces is the one its drain honours (drain line 5).
    expect(root.headers['keep-alive']).toBe('timeout=2');

    const info = JSON.parse((await connection.request('/info')).body);
    expect(info).toMatchObject({ pid: Number(pid), version: 'v7', listener: 'reuseport', draining: false });

    expect((await connection.request('/slow?ms=20')).status).toBe(200);
    for (const bad of ['/slow', '/slow?ms=abc', '/slow?ms=-1', '/slow?ms=99999999999', '/slow?ms=1.5']) {
      expect((await connection.request(bad)).status, bad).toBe(400);
    }
    for (const bad of ['/events?every=5', '/events?every=x', '/events?every=60001']) {
      expect((await connection.request(bad)).status, bad).toBe(400);
    }
    expect((await connection.request('/nope')).status).toBe(404);
    expect((await connection.request('/ws')).status).toBe(426);
  });

  it('answers POST /submit with its PID once the whole body is read; other methods 405, an oversized body 413', async () => {
    const server = await startReadyServer();
    const post = (body: Buffer, method = 'POST') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = http.request(
          { host: '127.0.0.1', port: server.port, path: '/submit', method, headers: { 'Content-Length': body.length } },
          (response) => {
            let text = '';
            response.on('data', (chunk) => (text += chunk));
            response.on('end', () => resolve({ status: response.statusCode!, body: text }));
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    expect(await post(Buffer.from('{"order":1}'))).toEqual({
      status: 200,
      body: `OK. Handled by PID: ${server.child.pid}\n`,
    });
    expect((await post(Buffer.alloc(0), 'GET')).status).toBe(405);
    expect((await post(Buffer.alloc(1024 * 1024 + 1))).status).toBe(413);
    expect((await new RawConnection(server.port).request('/')).status).toBe(200);
  });

  it('upgrades /ws to a WebSocket of numbered messages; other paths and bad ?every= are refused before the handshake', async () => {
    const server = await startReadyServer();
    const open = (path: string) =>
      new Promise<{ messages: string[]; status?: number }>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`);
        const messages: string[] = [];
        ws.on('message', (data) => {
          messages.push(String(data));
          if (messages.length === 2) ws.close();
        });
        ws.on('close', () => resolve({ messages }));
        ws.on('unexpected-response', (_request, response) => resolve({ messages, status: response.statusCode }));
      });
    const { messages } = await open('/ws?every=10');
    const [first, second] = messages.map((m) => m.split(' ').map(Number));
    expect(first![1]).toBe(server.child.pid);
    expect(second![0]).toBe(first![0]! + 1);
    expect((await open('/nope')).status).toBe(404);
    expect((await open('/ws?every=5')).status).toBe(400);
  });

  it('rejects malformed requests, oversized headers and other methods, and keeps serving', async () => {
    const server = await startReadyServer();
    const reply = (raw: string) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(server.port, '127.0.0.1', () => socket.end(raw));
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
    expect(await reply('NONSENSE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await reply(`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect(await reply('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 405[^]*Allow: GET, HEAD/,
    );
    expect((await new RawConnection(server.port).request('/')).status).toBe(200);
  });
});

describe('HTTPS (TLS_CERT, TLS_KEY)', () => {
  // A self-signed certificate for localhost, 127.0.0.1 and ::1, for tests only (valid until 2126).
  const TLS_ENV = { TLS_CERT: join(FIXTURES, 'tls/self-signed.crt'), TLS_KEY: join(FIXTURES, 'tls/self-signed.key') };
  const get = (port: number, path = '/') =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false }, (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        })
        .on('error', reject);
    });

  it('serves the same routes over TLS, and its drain steers over TLS and tracks TLS connections', async () => {
    const old = await startReadyServer(TLS_ENV);
    expect(await get(old.port)).toEqual({ status: 200, body: `OK. Handled by PID: ${old.child.pid}\n` });
    const next = await startReadyServer({ ...TLS_ENV, PORT: String(old.port) });
    old.child.kill('SIGTERM');
    expect(await old.exited).toBe(0);
    expect(old.logs.find((l) => l.event === 'steered')).toBeDefined();
    expect(await get(next.port)).toEqual({ status: 200, body: `OK. Handled by PID: ${next.child.pid}\n` });
  });
});

describe('configuration errors: one line, exit 2', () => {
  const run = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [SERVER_MAIN], {
      env: { PATH: process.env.PATH, STATE_DIR: tempDir(), HOST: '127.0.0.1', ...env },
      encoding: 'utf8',
      timeout: 10_000,
    });

  it.each([
    [{ PORT: 'abc' }, /PORT="abc" is not valid/],
    [{ PORT: '70000' }, /PORT="70000" is not valid/],
    [{ HOST: 'example.com' }, /HOST="example.com" is not valid/],
    [{ LISTEN_FDS: 'two' }, /LISTEN_FDS="two" is not valid/],
    [{ LISTEN_FDS: '1', LISTEN_PID: '1' }, /LISTEN_PID=1 names another process/],
    [{ STATE_DIR: '/etc/passwd/state' }, /STATE_DIR=\/etc\/passwd\/state is not writable/],
    [{ DRAIN_IDLE_GRACE_MS: '5000', DRAIN_TIMEOUT_MS: '1000' }, /must be below DRAIN_TIMEOUT_MS/],
    [
      { DRAIN_LISTEN_GRACE_MS: '3000', DRAIN_TIMEOUT_MS: '2500' },
      /DRAIN_LISTEN_GRACE_MS \(3000\) must be below DRAIN_TIMEOUT_MS \(2500\)/,
    ],
    [
      { DRAIN_TIMEOUT_MS: '1500' },
      /DRAIN_IDLE_GRACE_MS \(2000, by default the keep-alive timeout\) must be below DRAIN_TIMEOUT_MS \(1500\)/,
    ],
    [{ TLS_CERT: '/x.crt' }, /TLS_CERT and TLS_KEY go together/],
    [
      { TLS_CERT: '/nonexistent.crt', TLS_KEY: '/nonexistent.key' },
      /TLS_CERT="\/nonexistent.crt" cannot be read \(ENOENT\)/,
    ],
  ])('%o', (env, message) => {
    const result = run(env);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports a port held without SO_REUSEPORT', async () => {
    const plain = net.createServer();
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const result = run({ PORT: String((plain.address() as net.AddressInfo).port) });
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/EADDRINUSE.*without SO_REUSEPORT/);
    } finally {
      plain.close();
    }
  });

  it('reads defaults when the environment is empty', () => {
    expect(readConfig({}, 1)).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      version: 'v1',
      keepAliveTimeoutMs: 2_000,
      idleGraceMs: 2_000,
      drainTimeoutMs: 20_000,
      listenFds: undefined,
    });
  });

  it('waits as long in the drain as it announces it keeps an idle connection, unless told otherwise', () => {
    expect(readConfig({ KEEP_ALIVE_TIMEOUT_MS: '4000' }, 1)).toMatchObject({
      keepAliveTimeoutMs: 4_000,
      idleGraceMs: 4_000,
    });
    expect(readConfig({ KEEP_ALIVE_TIMEOUT_MS: '4000', DRAIN_IDLE_GRACE_MS: '300' }, 1)).toMatchObject({
      keepAliveTimeoutMs: 4_000,
      idleGraceMs: 300,
    });
    expect(() => readConfig({ KEEP_ALIVE_TIMEOUT_MS: '500' }, 1)).toThrow(/KEEP_ALIVE_TIMEOUT_MS/);
  });
});

describe('systemd socket activation', () => {
  it('serves on fd 3 when LISTEN_FDS/LISTEN_PID name it, and sends READY=1 to NOTIFY_SOCKET', async () => {
    const dir = tempDir();
    const notifyPath = join(dir, 'notify.sock');
    // The receiving end of the notify socket (Node core cannot bind AF_UNIX datagrams).
    const receiver = track(
      spawn(
        'python3',
        [
          '-c',
          [
            'import socket, sys',
            's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
            's.bind(sys.argv[1])',
            "print('bound', flush=True)",
            's.settimeout(10)',
            "print(s.recv(4096).decode().replace('\\n', ' '), flush=True)",
          ].join('\n'),
          notifyPath,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
    let received = '';
    receiver.stdout.on('data', (chunk) => (received += chunk));
    const receiverDone = new Promise<void>((r) => receiver.on('exit', () => r()));
    await new Promise<void>((r) => receiver.stdout.once('data', () => r()));

    const fd = listenReusePort('127.0.0.1', 0);
    const port = (await import('../native/index.js')).inspectSocket(fd).port!;
    // LISTEN_PID must be the server's own PID: sh sets it, then execs node (same PID).
    const child = track(
      spawn('sh', ['-c', `LISTEN_PID=$$ exec "${process.execPath}" "${SERVER_MAIN}"`], {
        env: { PATH: process.env.PATH, LISTEN_FDS: '1', NOTIFY_SOCKET: notifyPath, STATE_DIR: dir },
        stdio: ['ignore', 'pipe', 'inherit', fd],
      }),
    );
    await new Promise<void>((r) => child.stdout!.on('data', (chunk: Buffer) => chunk.includes('"ready"') && r()));
    const info = JSON.parse((await new RawConnection(port).request('/info')).body);
    expect(info).toMatchObject({ listener: 'systemd', pid: child.pid });
    await receiverDone;
    expect(received).toContain(`READY=1 MAINPID=${child.pid}`);
  });
});

describe('handoff (handoff.ts)', () => {
  it('takes the listener the old server offers at HANDOFF_FROM, and the old one hands it over', async () => {
    const stateDir = tempDir();
    const old = await startReadyServer({ STATE_DIR: stateDir });
    const path = offerPath(stateDir, old.child.pid!, processStartTime(old.child.pid));
    const taker = startServer({ STATE_DIR: stateDir, PORT: String(old.port), HANDOFF_FROM: path });
    expect(await taker.waitFor('listening')).toMatchObject({ source: 'handoff', port: old.port });
    expect(await old.waitFor('listener_handed_over')).toMatchObject({ to: taker.child.pid });

    old.child.kill('SIGTERM');
    expect((await old.waitFor('steer_skipped')).reason).toBe(
      `the socket was handed to PID ${taker.child.pid}: closing this process's copy leaves it listening there`,
    );
    expect(await old.exited).toBe(0);
    const info = JSON.parse((await new RawConnection(old.port).request('/info')).body);
    expect(info).toMatchObject({ pid: taker.child.pid, listener: 'handoff' });
  });

  it('takes no listener another user offers, nor one on another address than its own, and says so (exit 2)', async () => {
    const stateDir = tempDir();
    const old = await startReadyServer({ STATE_DIR: stateDir });
    const path = offerPath(stateDir, old.child.pid!, processStartTime(old.child.pid));
    for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
    // Another address: the old server listens on 127.0.0.1, this one would bind 0.0.0.0.
    const elsewhere = startServer({ STATE_DIR: stateDir, PORT: String(old.port), HOST: '0.0.0.0', HANDOFF_FROM: path });
    expect(await elsewhere.exited).toBe(2);
    expect(elsewhere.stderr()).toMatch(/is not a stream listener on 0\.0\.0\.0:\d+ .*"address":"127\.0\.0\.1"/);
    if (process.getuid?.() === 0) {
      // Another user's offer (root can make one): refused before anything is taken.
      chownSync(path, 65534, 65534);
      const taker = startServer({ STATE_DIR: stateDir, PORT: String(old.port), HANDOFF_FROM: path });
      expect(await taker.exited).toBe(2);
      expect(taker.stderr()).toContain(
        `the socket offered at ${path} belongs to uid 65534, not to this server's (uid 0)`,
      );
    }
  });

  it('binds the port when nothing is offered at HANDOFF_FROM (a cold start), and refuses a relative path', async () => {
    const lone = startServer({ HANDOFF_FROM: join(tempDir(), 'nobody.sock') });
    expect(await lone.waitFor('listening')).toMatchObject({
      source: 'reuseport',
      handoffNote: expect.stringContaining('(ENOENT): bound the port'),
    });
    expect(() => readConfig({ HANDOFF_FROM: 'offer.sock' }, 1)).toThrow('HANDOFF_FROM="offer.sock" is not valid');
  });
});
