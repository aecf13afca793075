// The drain contract (drain.ts), line by line, against a real server process.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, RawConnection, startReadyServer, tempDir } from '../test/processes.js';
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

  it('2. closes the listener at once but keeps open connections', async () => {
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

  it('3. answers a keep-alive client with Connection: close, then closes that socket', async () => {
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

  it('4. closes a keep-alive connection that stays idle for the grace, not before', async () => {
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

  it('5. lets an in-flight request complete after SIGTERM, then exits 0', async () => {
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

  it('6. cuts what is left at the drain deadline, says how much, and exits 1', async () => {
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
