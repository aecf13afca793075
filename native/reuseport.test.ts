import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  closeAfterTest,
  closeGreetersAfterEach,
  fetchGreeting,
  serveGreeting as serve,
} from '../test/fixtures/greeting-listeners.js';
import {
  acceptPending,
  acceptQueueLength,
  clearReusePortSteering,
  inspectSocket,
  listenReusePort,
  type ListenerTaken,
  offerListener,
  sdNotify,
  steerReusePort,
  takeListener,
  takeSocketError,
} from './index.js';

closeGreetersAfterEach();

describe('listenReusePort', () => {
  it('lets two listeners share one port, and both accept', async () => {
    const first = listenReusePort('127.0.0.1', 0);
    const port = inspectSocket(first).port!;
    const second = listenReusePort('127.0.0.1', port);
    await serve(first, 'first');
    await serve(second, 'second');

    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) seen.add(await fetchGreeting(port));
    expect(seen).toEqual(new Set(['first', 'second']));
  });

  it('fails with EADDRINUSE from bind when the port is held without SO_REUSEPORT', async () => {
    const plain = net.createServer();
    closeAfterTest(plain);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const { port } = plain.address() as net.AddressInfo;

    expect(() => listenReusePort('127.0.0.1', port)).toThrow(
      expect.objectContaining({
        code: 'EADDRINUSE',
        syscall: 'bind',
        message: expect.stringContaining(`127.0.0.1:${port}`),
      }),
    );
  });

  it('listens on IPv6', async () => {
    const fd = listenReusePort('::1', 0);
    const info = inspectSocket(fd);
    expect(info).toMatchObject({ family: 'IPv6', address: '::1', listening: true, reusePort: true });
    await serve(fd, 'six');
    expect(await fetchGreeting(info.port!, '::1')).toBe('six');
  });

  it('refuses host names: only numeric addresses, no DNS on the event loop', () => {
    expect(() => listenReusePort('localhost', 0)).toThrow(expect.objectContaining({ code: 'EINVALIDHOST' }));
  });
});

describe('inspectSocket', () => {
  it('describes a reuseport listener', () => {
    const fd = listenReusePort('127.0.0.1', 0);
    const info = inspectSocket(fd);
    expect(info).toMatchObject({
      listening: true,
      reusePort: true,
      type: 'stream',
      family: 'IPv4',
      address: '127.0.0.1',
    });
    expect(info.port).toBeGreaterThan(0);
    void serve(fd, 'x'); // hands the fd to a server so afterEach closes it
  });

  it('sees that a plain Node listener has no SO_REUSEPORT', async () => {
    const plain = net.createServer();
    closeAfterTest(plain);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const fd = (plain as unknown as { _handle: { fd: number } })._handle.fd;
    expect(inspectSocket(fd)).toMatchObject({ listening: true, reusePort: false });
  });

  it('fails with EBADF on a closed fd and ENOTSOCK on a file', () => {
    expect(() => inspectSocket(1_000_000)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const file = openSync(process.execPath, 'r');
    try {
      expect(() => inspectSocket(file)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }));
    } finally {
      closeSync(file);
    }
  });
});

describe('steering a reuseport group', () => {
  /** Which listener answered each of `count` new connections. */
  async function tally(port: number, count: number): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      const name = await fetchGreeting(port);
      seen[name] = (seen[name] ?? 0) + 1;
    }
    return seen;
  }

  it('sends every new connection to the listener at the index, through any member, until detached', async () => {
    const first = listenReusePort('127.0.0.1', 0);
    const port = inspectSocket(first).port!;
    const second = listenReusePort('127.0.0.1', port);
    await serve(first, 'first');
    await serve(second, 'second');

    steerReusePort(first, 1);
    expect(await tally(port, 200)).toEqual({ second: 200 });
    steerReusePort(second, 0);
    expect(await tally(port, 200)).toEqual({ first: 200 });
    expect(clearReusePortSteering(second)).toBe(true);
    expect(clearReusePortSteering(first)).toBe(false); // the group has no program left
    expect(Object.keys(await tally(port, 200)).sort()).toEqual(['first', 'second']);
  });

  it('falls back to the hash for an index past the end, and a listener that joins later takes the index', async () => {
    const first = listenReusePort('127.0.0.1', 0);
    const port = inspectSocket(first).port!;
    await serve(first, 'first');
    steerReusePort(first, 1);
    expect(await tally(port, 50)).toEqual({ first: 50 });

    const second = listenReusePort('127.0.0.1', port);
    await serve(second, 'second');
    expect(await tally(port, 50)).toEqual({ second: 50 });
  });

  it('is refused for a socket without SO_REUSEPORT', async () => {
    const plain = net.createServer();
    closeAfterTest(plain);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const fd = (plain as unknown as { _handle: { fd: number } })._handle.fd;
    expect(() => steerReusePort(fd, 0)).toThrow(
      expect.objectContaining({ code: 'EINVAL', syscall: 'setsockopt(SO_ATTACH_REUSEPORT_CBPF)' }),
    );
  });

  it('counts connections the kernel completed that nobody accepted', async () => {
    const fd = listenReusePort('127.0.0.1', 0);
    const port = inspectSocket(fd).port!;
    expect(acceptQueueLength(fd)).toBe(0);
    const clients = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
          }),
      ),
    );
    expect(acceptQueueLength(fd)).toBe(3);
    const server = await serve(fd, 'late');
    await Promise.all(clients.map((c) => new Promise((r) => c.on('close', r).resume())));
    expect(acceptQueueLength(fd)).toBe(0);
    expect(server.listening).toBe(true);
  });
});

/** `count` clients whose handshakes the kernel completed on a listener that nobody accepts from yet. */
async function queued(count: number) {
  const fd = listenReusePort('127.0.0.1', 0);
  const port = inspectSocket(fd).port!;
  const clients = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
        }),
    ),
  );
  const opened = [fd];
  const adopted: net.Socket[] = [];
  onTestFinished(() => {
    clients.forEach((c) => c.destroy());
    adopted.forEach((s) => s.destroy());
    opened.forEach((f) => closeSync(f));
  });
  /** An accepted fd as a socket, which owns (and closes) it from then on. */
  const adopt = (peer: number) => {
    opened.splice(opened.indexOf(peer), 1);
    const socket = new net.Socket({ fd: peer });
    adopted.push(socket);
    return socket;
  };
  return { fd, clients, keep: (fds: number[]) => (opened.push(...fds), fds), adopt };
}

describe('acceptPending', () => {
  it('accepts what is queued, at most max at a time, and nothing once the queue is empty', async () => {
    const { fd, clients, keep, adopt } = await queued(3);
    const first = keep(acceptPending(fd, 2));
    expect(first).toHaveLength(2);
    expect(acceptQueueLength(fd)).toBe(1);
    const rest = keep(acceptPending(fd, 64));
    expect(rest).toHaveLength(1);
    expect(keep(acceptPending(fd, 64))).toEqual([]);
    // Each is a connected stream socket on the listener's port, one per client.
    const peers = [...first, ...rest].map((peer) => inspectSocket(peer));
    expect(peers.every((p) => p.type === 'stream' && !p.listening && p.port === inspectSocket(fd).port)).toBe(true);
    // ... one for each client: their peers are the clients' own ports.
    const remotePorts = [...first, ...rest].map((peer) => adopt(peer).remotePort);
    expect(remotePorts.sort()).toEqual(clients.map((c) => c.localPort).sort());
  });

  it('refuses a blocking fd (its accept would stall the event loop) and a closed one', async () => {
    const file = openSync(process.execPath, 'r');
    onTestFinished(() => closeSync(file));
    expect(() => acceptPending(file, 1)).toThrow(/blocking socket/);
    expect(() => acceptPending(2_000_000, 1)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const { fd } = await queued(0);
    expect(() => acceptPending(fd, 0)).toThrow(RangeError);
  });
});

describe('handing a listener over', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const socketPath = () => {
    const dir = mkdtempSync(join(tmpdir(), 'handoff-'));
    dirs.push(dir);
    return join(dir, 'offer.sock');
  };

  /** Takes the listener in a child process, serves 'child' on it, and says which socket it got. */
  function takeInChild(path: string, options: { uid?: number } = {}): Promise<{ out: string; code: number | null }> {
    const script = `
      const addon = require(${JSON.stringify(createRequire(import.meta.url).resolve('node-gyp-build'))})(${JSON.stringify(join(import.meta.dirname, '..'))});
      try {
        const fd = addon.takeListener(process.argv[1], 2000);
        const info = addon.inspectSocket(fd);
        require('net').createServer((s) => s.end('child')).listen({ fd }, () => console.log('serving ' + info.port));
        setTimeout(() => process.exit(0), 1500);
      } catch (error) { console.log(error.code); process.exit(3); }`;
    const child = spawn(process.execPath, ['-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'], ...options });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    return new Promise((resolve, reject) => {
      child.stdout.on('data', () => out.includes('serving') && resolve({ out, code: null }));
      child.on('exit', (code) => resolve({ out, code }));
      // e.g. EACCES: a node binary under a directory the other user cannot enter.
      child.on('error', (error) =>
        reject(
          new Error(
            `could not start ${process.execPath}${options.uid === undefined ? '' : ` as uid ${options.uid}`}: ${error.message}`,
          ),
        ),
      );
    });
  }

  it("gives a copy of the listening socket to a process of the same user: both accept from one queue, and it outlives the giver's close", async () => {
    const fd = listenReusePort('127.0.0.1', 0);
    const port = inspectSocket(fd).port!;
    const giver = await serve(fd, 'giver');
    const path = socketPath();
    const taken: ListenerTaken[] = [];
    const offer = offerListener(path, fd, (t) => taken.push(t));
    expect(statSync(path).mode & 0o777).toBe(0o600);

    expect((await takeInChild(path)).out).toBe(`serving ${port}\n`);
    expect(taken).toEqual([expect.objectContaining({ uid: process.getuid!(), given: true })]);
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) seen.add(await fetchGreeting(port));
    expect(seen).toEqual(new Set(['giver', 'child']));

    offer.close();
    offer.close();
    expect(existsSync(path)).toBe(false);
    await new Promise((r) => giver.close(r));
    // Closing the giver's copy closed nothing: the child answers every connection.
    for (let i = 0; i < 50; i++) expect(await fetchGreeting(port)).toBe('child');
  });

  it('gives nothing to a process of another user', async () => {
    if (process.getuid!() !== 0) {
      // Only root can start a process as another user; the same-user path is proven above.
      expect(process.getuid!()).toBeGreaterThan(0);
      return;
    }
    const fd = listenReusePort('127.0.0.1', 0);
    await serve(fd, 'giver');
    const path = socketPath();
    const taken: ListenerTaken[] = [];
    const offer = offerListener(path, fd, (t) => taken.push(t));
    chmodSync(dirname(path), 0o755);
    chmodSync(path, 0o666); // even with the path open to all, the peer's uid decides
    const result = await takeInChild(path, { uid: 65534 });
    offer.close();
    expect(result.code).toBe(3);
    expect(result.out.trim()).toBe('EPROTO');
    expect(taken).toEqual([expect.objectContaining({ uid: 65534, given: false })]);
  });

  it('says why nothing was taken: no offer, a stale socket file, an offer that sends nothing', async () => {
    const missing = socketPath();
    expect(() => takeListener(missing, 100)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'connect' }));
    // A server that died leaves its socket file behind.
    const stale = socketPath();
    expect(
      spawnSync('python3', [
        '-c',
        'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()',
        stale,
      ]).status,
    ).toBe(0);
    expect(() => takeListener(stale, 100)).toThrow(expect.objectContaining({ code: 'ECONNREFUSED' }));
    const mutePath = socketPath();
    const mute = net.createServer(() => {});
    closeAfterTest(mute);
    await new Promise<void>((r) => mute.listen(mutePath, r));
    expect(() => takeListener(mutePath, 100)).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    expect(() => takeListener('relative.sock', 100)).toThrow(TypeError);
  });
});

// Node core cannot bind an AF_UNIX datagram socket, so the receiving end of
// the notify socket is a few lines of python3 (on every machine we test on).
function receiveDatagram(address: string): Promise<{ ready: Promise<void>; message: Promise<string> }> {
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    'a = sys.argv[1]',
    "s.bind('\\0' + a[1:] if a.startswith('@') else a)",
    "print('bound', flush=True)",
    's.settimeout(10)',
    'print(s.recv(4096).decode(), flush=True)',
  ].join('\n');
  const child = spawn('python3', ['-c', script, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let onBound!: () => void;
  const ready = new Promise<void>((r) => (onBound = r));
  const message = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.startsWith('bound\n')) onBound();
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(out.slice('bound\n'.length).trim()) : reject(new Error(`receiver exited ${code}`)),
    );
  });
  return Promise.resolve({ ready, message });
}

describe('sdNotify', () => {
  it('delivers a state datagram to a socket path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'notify-'));
    try {
      const path = join(dir, 'notify.sock');
      const { ready, message } = await receiveDatagram(path);
      await ready;
      sdNotify(path, 'READY=1\nSTATUS=serving');
      expect(await message).toBe('READY=1\nSTATUS=serving');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('delivers to an abstract @name', async () => {
    const name = `@reuseport-lab-test-${process.pid}`;
    const { ready, message } = await receiveDatagram(name);
    await ready;
    sdNotify(name, 'STOPPING=1');
    expect(await message).toBe('STOPPING=1');
  });

  it('reports a missing socket with the errno and path', () => {
    expect(() => sdNotify('/nonexistent/notify.sock', 'READY=1')).toThrow(
      expect.objectContaining({
        code: 'ENOENT',
        syscall: 'sendto',
        message: expect.stringContaining('/nonexistent/notify.sock'),
      }),
    );
  });
});

describe('takeSocketError', () => {
  it('has nothing for a healthy connection, the reset for a reset one, once', async () => {
    const { fd, clients, keep } = await queued(1);
    const [peer] = keep(acceptPending(fd, 1));
    expect(takeSocketError(peer!)).toBeNull();
    // Nothing reads the accepted fd, so the error waits in the kernel, as it does after libuv's EOF (harness/load/peer-reset.ts).
    clients[0]!.resetAndDestroy();
    let pending: string | null = null;
    for (const deadline = Date.now() + 2000; pending === null && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      pending = takeSocketError(peer!);
    }
    expect(pending).toBe('ECONNRESET');
    expect(takeSocketError(peer!)).toBeNull();
  });

  it('throws EBADF for a closed fd and ENOTSOCK for a file', () => {
    const file = openSync(process.execPath, 'r');
    onTestFinished(() => closeSync(file));
    expect(() => takeSocketError(file)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }));
    expect(() => takeSocketError(2_000_000)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});

describe('bad arguments', () => {
  const call =
    (fn: (...args: unknown[]) => unknown, ...args: unknown[]) =>
    () =>
      fn(...args);
  const listen = listenReusePort as (...args: unknown[]) => number;
  const inspect = inspectSocket as (...args: unknown[]) => unknown;
  const notify = sdNotify as (...args: unknown[]) => unknown;
  const steer = steerReusePort as (...args: unknown[]) => unknown;
  const queue = acceptQueueLength as (...args: unknown[]) => unknown;
  const socketError = takeSocketError as (...args: unknown[]) => unknown;

  it.each([
    ['port above 65535', call(listen, '127.0.0.1', 70000), RangeError],
    ['fractional port', call(listen, '127.0.0.1', 80.5), RangeError],
    ['port as a string', call(listen, '127.0.0.1', '80'), TypeError],
    ['missing host', call(listen), TypeError],
    ['zero backlog', call(listen, '127.0.0.1', 0, 0), RangeError],
    ['negative fd', call(inspect, -1), RangeError],
    ['NaN fd', call(inspect, Number.NaN), RangeError],
    ['fd as an object', call(inspect, {}), TypeError],
    ['relative notify path', call(notify, 'notify.sock', 'READY=1'), TypeError],
    ['notify path too long', call(notify, '/' + 'x'.repeat(200), 'READY=1'), RangeError],
    ['NUL in state', call(notify, '/tmp/x', 'READY=1\0'), TypeError],
    ['steer index above 65535', call(steer, 3, 70000), RangeError],
    ['steer without an index', call(steer, 3), TypeError],
    ['steer a file', call(steer, 0, 1), Error],
    ['queue length of a non-socket', call(queue, 0), Error],
    ['socket error of a fractional fd', call(socketError, 1.5), RangeError],
  ])('%s throws, never crashes', (_name, thunk, kind) => {
    expect(thunk).toThrow(kind);
  });

  it('survives a fuzz loop of random arguments with exceptions only', () => {
    const samples: unknown[] = [
      undefined,
      null,
      -1,
      0,
      1,
      65536,
      2 ** 31,
      -0,
      1.5,
      Infinity,
      Number.NaN,
      '',
      '::',
      '0.0.0.0',
      '@',
      '/',
      'x'.repeat(5000),
      {},
      [],
      () => 1,
      Symbol('s'),
      10n,
    ];
    const pick = (seed: number) => samples[seed % samples.length];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      for (const fn of [listen, inspect, notify]) {
        try {
          const result = fn(pick(next()), pick(next()), pick(next()));
          // A random call may succeed (e.g. listen on '::' port 0): release it.
          if (fn === listen && typeof result === 'number') void serve(result, 'fuzz');
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }
    }
  });
});
