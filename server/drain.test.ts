// The drain contract (drain.ts), line by line, against a real server process.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
    expect(server.logs.map((l) => l.event)).toEqual(expect.arrayContaining(['drain_started', 'listener_closed', 'drained', 'exit']));
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
