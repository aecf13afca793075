// The drain contract (drain.ts), line by line, against a real server process.
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cleanup, RawConnection, startReadyServer, startServer, tempDir } from '../test/processes.js';
import { processStartTime } from './readiness.js';

afterEach(cleanup);

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** Which PID answered each of `count` GET / on new connections, `parallel` at a time. */
async function answeredBy(port: number, count: number, parallel = 20): Promise<Map<number, number>> {
  const tally = new Map<number, number>();
  let next = 0;
  const loop = async () => {
    while (next++ < count) {
      const answer = await new RawConnection(port).request('/');
      const pid = Number(answer.headers['x-server-pid']);
      tally.set(pid, (tally.get(pid) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: parallel }, loop));
  return tally;
}

/** A Server-Sent Events client: its events as they come, and how the stream ended. */
async function openEvents(port: number, path: string, lastEventId?: number) {
  const events: { id: number; pid: number }[] = [];
  const state = { rest: '', retryMs: NaN };
  const waiters: (() => void)[] = [];
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const request = http.get(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: lastEventId === undefined ? {} : { 'Last-Event-ID': String(lastEventId) },
      },
      resolve,
    );
    request.on('error', reject);
  });
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    const blocks = (state.rest + chunk).split('\n\n');
    state.rest = blocks.pop()!;
    for (const block of blocks) {
      const retry = /^retry: (\d+)$/m.exec(block);
      if (retry) state.retryMs = Number(retry[1]);
      const data = /^data: (\d+) (\d+)$/m.exec(block);
      if (data) events.push({ id: Number(data[1]), pid: Number(data[2]) });
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const ended = new Promise<void>((resolve) => response.on('end', resolve));
  return {
    events,
    ended,
    get rest() {
      return state.rest;
    },
    get retryMs() {
      return state.retryMs;
    },
    async until(enough: (e: typeof events) => boolean) {
      while (!enough(events)) await new Promise<void>((wake) => waiters.push(wake));
    },
    close: () => response.destroy(),
  };
}

/** A WebSocket client of /ws: its messages as they come, and the close it got. */
async function openSocket(port: number, path: string, lastEventId?: number, createConnection?: () => net.Socket) {
  const messages: { id: number; pid: number }[] = [];
  const waiters: (() => void)[] = [];
  const headers = lastEventId === undefined ? {} : { 'Last-Event-ID': String(lastEventId) };
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
    headers,
    ...(createConnection ? { createConnection } : {}),
  });
  ws.on('message', (data) => {
    const [id, pid] = String(data).split(' ').map(Number);
    messages.push({ id: id!, pid: pid! });
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    messages,
    closed,
    async until(enough: (m: typeof messages) => boolean) {
      while (!enough(messages)) await new Promise<void>((wake) => waiters.push(wake));
    },
    close: () => ws.terminate(),
  };
}

describe('drain contract', () => {
  it('1. withdraws readiness at once: /healthz 503 and the ready marker is gone', async () => {
    const stateDir = tempDir();
    const server = await startReadyServer({ STATE_DIR: stateDir, DRAIN_IDLE_GRACE_MS: '5000' });
    // The marker names the process: its PID and start time (readiness.ts).
    const marker = join(stateDir, 'ready', `${server.child.pid}-${processStartTime(server.child.pid)}`);
    const connection = new RawConnection(server.port);
    expect((await connection.request('/healthz')).status).toBe(200);
    expect(existsSync(marker)).toBe(true);

    server.child.kill('SIGTERM');
    await server.waitFor('drain_started');
    expect(existsSync(marker)).toBe(false);
    const health = await connection.request('/healthz');
    expect(health.status).toBe(503);
    expect(health.headers.connection).toBe('close');
  });

  it('1. with a listen grace keeps accepting new connections that long, each answered with Connection: close and /healthz 503', async () => {
    const server = await startReadyServer({ DRAIN_LISTEN_GRACE_MS: '800', DRAIN_IDLE_GRACE_MS: '5000' });
    server.child.kill('SIGTERM');
    const started = await server.waitFor('drain_started');
    expect(started.listenGraceMs).toBe(800);
    // A new connection during the grace: answered, told to go, and not ready.
    const during = new RawConnection(server.port);
    const answer = await during.request('/');
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect((await new RawConnection(server.port).request('/healthz')).status).toBe(503);
    expect(server.logs.some((l) => l.event === 'listener_closed')).toBe(false);
    const closed = await server.waitFor('listener_closed');
    // Contract, not speed: the listener must not close before the grace.
    expect(Date.parse(closed.ts as string) - Date.parse(started.ts as string)).toBeGreaterThanOrEqual(800 - 20);
    expect(await connectionRefused(server.port)).toBe(true);
    expect(await server.exited).toBe(0);
  });

  describe('2. steers new connections to another listener of the port before it closes', () => {
    // A settle long enough to keep the steered listener open while the test counts.
    const LONG_SETTLE = { DRAIN_STEER_SETTLE_MS: '5000', DRAIN_IDLE_GRACE_MS: '5000' };

    /** Two servers on one port, the first draining and steered to the second. */
    async function steeredPair() {
      const old = await startReadyServer(LONG_SETTLE);
      const target = await startReadyServer({ PORT: String(old.port) });
      old.child.kill('SIGTERM');
      await old.waitFor('steered');
      return { old, target };
    }

    it('a replaced server: none of 1,000 new connections reaches it, its successor answers them', async () => {
      const old = await startReadyServer(LONG_SETTLE);
      const successor = await startReadyServer({ PORT: String(old.port) });
      old.child.kill('SIGTERM');
      expect(await old.waitFor('steered')).toMatchObject({ index: 1, probes: 1 });

      const tally = await answeredBy(old.port, 1000);
      const counted = Date.now();
      const closed = await old.waitFor('listener_closed');
      expect(tally.get(old.child.pid!) ?? 0).toBe(0);
      expect(tally.get(successor.child.pid!)).toBe(1000);
      // The count ran while the old listener was still open, and it accepted nothing new.
      expect(Date.parse(closed.ts as string)).toBeGreaterThanOrEqual(counted);
      expect(closed).toMatchObject({ steered: true, acceptedWhileDraining: 0 });
      expect(await old.exited).toBe(0);
    });

    it('a rolled-back new server steers back to the old one and pulls nothing to itself', async () => {
      const old = await startReadyServer();
      const rolledBack = await startReadyServer({ ...LONG_SETTLE, PORT: String(old.port) });
      rolledBack.child.kill('SIGTERM');
      expect(await rolledBack.waitFor('steered')).toMatchObject({ index: 0, probes: 2 });

      const tally = await answeredBy(old.port, 1000);
      const counted = Date.now();
      expect(tally.get(rolledBack.child.pid!) ?? 0).toBe(0);
      expect(tally.get(old.child.pid!)).toBe(1000);
      // Its own probe (the first one, at index 1) is all it accepted while draining.
      const closed = await rolledBack.waitFor('listener_closed');
      expect(Date.parse(closed.ts as string)).toBeGreaterThanOrEqual(counted);
      expect(closed).toMatchObject({ steered: true, acceptedWhileDraining: 1 });
      expect(await rolledBack.exited).toBe(0);
    });

    it('a crash of either server while steered leaves the port served', async () => {
      // The target dies: its index falls off the end of the group, and the kernel's hash picks the old one, still open.
      const { old, target } = await steeredPair();
      target.child.kill('SIGKILL');
      await target.exited;
      expect(await answeredBy(old.port, 50)).toEqual(new Map([[old.child.pid, 50]]));

      // The steering server dies: the program stays with the group and sends everything to the one left.
      const { old: first, target: second } = await steeredPair();
      first.child.kill('SIGKILL');
      await first.exited;
      expect(await answeredBy(first.port, 50)).toEqual(new Map([[second.child.pid, 50]]));
    });

    it('the next server detaches the program after listen: old and new answer again', async () => {
      const first = await startReadyServer({ DRAIN_STEER_SETTLE_MS: '0' });
      const second = await startReadyServer({ PORT: String(first.port) });
      first.child.kill('SIGTERM');
      await first.waitFor('steered');
      expect(await first.exited).toBe(0);

      const third = await startServer({ PORT: String(first.port) }).waitFor('listening');
      expect(third).toMatchObject({ clearedSteering: true });
      const tally = await answeredBy(first.port, 400);
      expect([...tally.keys()].sort()).toEqual([second.child.pid, third.pid].sort());
    });

    it('alone on the port: says so and closes at once', async () => {
      const server = await startReadyServer();
      server.child.kill('SIGTERM');
      expect(await server.waitFor('steer_skipped')).toMatchObject({ reason: 'no other listener on the port' });
      expect(await server.waitFor('listener_closed')).toMatchObject({ steered: false });
      expect(await server.exited).toBe(0);
    });

    it('DRAIN_STEER=off: closes without steering, and says why', async () => {
      const old = await startReadyServer({ DRAIN_STEER: 'off' });
      await startReadyServer({ PORT: String(old.port) });
      old.child.kill('SIGTERM');
      expect(await old.waitFor('steer_skipped')).toMatchObject({ reason: 'DRAIN_STEER=off' });
      expect(await old.exited).toBe(0);
    });
  });

  it('3. closes the listener but keeps open connections', async () => {
    const server = await startReadyServer({ DRAIN_IDLE_GRACE_MS: '5000' });
    const connection = new RawConnection(server.port);
    await connection.request('/');

    server.child.kill('SIGTERM');
    await server.waitFor('listener_closed');
    expect(await connectionRefused(server.port)).toBe(true);
    const answer = await connection.request('/');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(`OK. Handled by PID: ${server.child.pid}\n`);
  });

  it('4. answers a keep-alive client with Connection: close, then closes that socket', async () => {
    const server = await startReadyServer({ DRAIN_IDLE_GRACE_MS: '5000' });
    const connection = new RawConnection(server.port);
    expect((await connection.request('/')).headers.connection).toBe('keep-alive');

    server.child.kill('SIGTERM');
    await server.waitFor('drain_started');
    const answer = await connection.request('/');
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    await connection.ended;
    expect(await server.exited).toBe(0);
  });

  it('5. closes a keep-alive connection that stays idle for the grace, not before', async () => {
    const server = await startReadyServer({ DRAIN_IDLE_GRACE_MS: '400' });
    const connection = new RawConnection(server.port);
    await connection.request('/');

    server.child.kill('SIGTERM');
    const drainStarted = Date.parse((await server.waitFor('drain_started')).ts as string);
    await connection.ended;
    // Contract, not speed: the close must not come before the grace.
    expect(Date.now() - drainStarted).toBeGreaterThanOrEqual(400 - 20);
    expect(await server.exited).toBe(0);
  });

  it('6. lets an in-flight request complete after SIGTERM, then exits 0', async () => {
    const server = await startReadyServer();
    const connection = new RawConnection(server.port);
    const slow = connection.request('/slow?ms=600');
    await new Promise((r) => setTimeout(r, 100));

    server.child.kill('SIGTERM');
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.headers['x-server-pid']).toBe(String(server.child.pid));
    expect(answer.headers.connection).toBe('close');
    expect(await server.exited).toBe(0);
    expect(server.logs.map((l) => l.event)).toEqual(
      expect.arrayContaining(['drain_started', 'listener_closed', 'drained', 'exit']),
    );
  });

  it('7. cuts what is left at the drain deadline, says how much, and exits 1', async () => {
    const server = await startReadyServer({ DRAIN_TIMEOUT_MS: '500', DRAIN_IDLE_GRACE_MS: '100' });
    const connection = new RawConnection(server.port);
    const slow = connection.request('/slow?ms=10000').catch((error: Error) => error);
    await new Promise((r) => setTimeout(r, 100));

    server.child.kill('SIGTERM');
    expect(await slow).toBeInstanceOf(Error);
    expect(await server.exited).toBe(1);
    expect(server.logs.find((l) => l.event === 'drain_deadline')).toMatchObject({ cutConnections: 1, cutRequests: 1 });
  });

  it("8. ends an event stream at the drain's start after a whole event; the next server continues it from Last-Event-ID", async () => {
    // The stream is opened while the old server is alone on the port: it is the old one's.
    const old = await startReadyServer({ DRAIN_IDLE_GRACE_MS: '200' });
    const first = await openEvents(old.port, '/events?every=20');
    const next = await startReadyServer({ PORT: String(old.port) });
    await first.until((events) => events.length >= 5);
    expect(first.events[0]).toMatchObject({ pid: old.child.pid });

    old.child.kill('SIGTERM');
    await first.ended;
    // The stream ended by itself, after a whole event with no gap before it, well before the drain deadline.
    expect(first.rest).toBe('');
    expect(first.events.map((e) => e.id)).toEqual(first.events.map((_, i) => first.events[0]!.id + i));
    const last = first.events.at(-1)!.id;
    expect(first.retryMs).toBe(100);
    expect(await old.exited).toBe(0);

    await new Promise((r) => setTimeout(r, 100));
    const second = await openEvents(next.port, '/events?every=20', last);
    await second.until((events) => events.length >= 3);
    second.close();
    // Caught up: the next id after the last one seen, from the other server, none twice.
    expect(second.events[0]).toEqual({ id: last + 1, pid: next.child.pid });
    expect(second.events.map((e) => e.id)).toEqual(second.events.map((_, i) => last + 1 + i));
  });

  it("9. closes a WebSocket at the drain's start with 1012 after what was due; the next server continues it from Last-Event-ID", async () => {
    const old = await startReadyServer({ DRAIN_IDLE_GRACE_MS: '100' });
    const first = await openSocket(old.port, '/ws?every=20');
    const next = await startReadyServer({ PORT: String(old.port) });
    await first.until((messages) => messages.length >= 5);
    expect(first.messages[0]).toMatchObject({ pid: old.child.pid });

    old.child.kill('SIGTERM');
    expect(await first.closed).toEqual({ code: 1012, reason: 'server restart' });
    const ids = first.messages.map((m) => m.id);
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
    expect(await old.exited).toBe(0);

    const second = await openSocket(next.port, '/ws?every=20', ids.at(-1));
    await second.until((messages) => messages.length >= 3);
    second.close();
    expect(second.messages[0]).toEqual({ id: ids.at(-1)! + 1, pid: next.child.pid });
    expect(second.messages.map((m) => m.id)).toEqual(second.messages.map((_, i) => ids.at(-1)! + 1 + i));
  });

  it('9. closes a WebSocket upgraded while draining at once with 1012, after its first messages', async () => {
    const server = await startReadyServer({ DRAIN_IDLE_GRACE_MS: '2000' });
    // A connection accepted before the drain, upgraded after it began (the listener is closed by then).
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    server.child.kill('SIGTERM');
    await server.waitFor('listener_closed');
    const late = await openSocket(server.port, '/ws?every=20', undefined, () => socket);
    expect((await late.closed).code).toBe(1012);
    expect(late.messages.length).toBeGreaterThanOrEqual(1);
    expect(await server.exited).toBe(0);
  });

  it('ignores a second signal while draining', async () => {
    const server = await startReadyServer();
    const connection = new RawConnection(server.port);
    const slow = connection.request('/slow?ms=500');
    await new Promise((r) => setTimeout(r, 100));
    server.child.kill('SIGTERM');
    await server.waitFor('drain_started');
    server.child.kill('SIGINT');
    expect((await slow).status).toBe(200);
    expect(await server.exited).toBe(0);
    expect(server.logs.some((l) => l.event === 'signal_ignored')).toBe(true);
  });
});
