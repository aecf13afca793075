// grpc.health.v1.Health on our server, called by a real gRPC client
// (@grpc/grpc-js) over h2c: Check answers SERVING with the server's PID in
// the metadata; Watch is told NOT_SERVING and ended with OK when the drain
// begins, and the server then exits 0 by itself; a new server on the port
// answers the next Watch. And the two messages' bytes, by hand.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { cleanup, startReadyServer } from '../test/processes.js';
import { grpcFrame, healthResponse, serviceOf, SERVING_STATUS } from './grpc-health.js';

afterEach(cleanup);

/** HealthCheckRequest { string service = 1; } */
const request = (service: string) =>
  service ? Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(service)]), Buffer.from(service)]) : Buffer.alloc(0);
/** HealthCheckResponse's status (0 when the field is left out). */
const status = (bytes: Buffer) => (bytes.length >= 2 && bytes[0] === 0x08 ? bytes[1]! : 0);

function client(port: number): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function check(c: grpc.Client, service = ''): Promise<{ status: number; pid?: string } | grpc.ServiceError> {
  return new Promise((resolve) => {
    let pid: string | undefined;
    const call = c.makeUnaryRequest('/grpc.health.v1.Health/Check', request, status, service, (error, answer) =>
      resolve(error ?? { status: answer!, pid }),
    );
    call.on('metadata', (metadata) => (pid = String(metadata.get('x-server-pid')[0])));
  });
}

describe('grpc.health.v1.Health', () => {
  it('Check: SERVING for the whole server, with its PID in the metadata; NOT_FOUND for a service it does not have, UNIMPLEMENTED for another method', async () => {
    const server = await startReadyServer();
    const c = client(server.port);
    try {
      expect(await check(c)).toEqual({ status: SERVING_STATUS.SERVING, pid: String(server.child.pid) });
      expect(await check(c, 'shop.Cart')).toMatchObject({
        code: grpc.status.NOT_FOUND,
        details: 'unknown service shop.Cart',
      });
      const list = await new Promise<grpc.ServiceError | null>((resolve) =>
        c.makeUnaryRequest('/grpc.health.v1.Health/List', request, status, '', (error) => resolve(error)),
      );
      expect(list).toMatchObject({ code: grpc.status.UNIMPLEMENTED });
    } finally {
      c.close();
    }
  });

  it('Watch: SERVING, then NOT_SERVING and OK at the drain; the server exits 0, and the next server answers the next Watch', async () => {
    const old = await startReadyServer();
    const c = client(old.port);
    try {
      const seen: number[] = [];
      const watch = c.makeServerStreamRequest('/grpc.health.v1.Health/Watch', request, status, '');
      watch.on('data', (s: number) => seen.push(s));
      const ended = new Promise<grpc.StatusObject>((resolve) => watch.on('status', resolve));
      watch.on('error', () => {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen).toEqual([SERVING_STATUS.SERVING]);

      const next = await startReadyServer({ PORT: String(old.port) });
      old.child.kill('SIGTERM');
      expect((await ended).code).toBe(grpc.status.OK);
      expect(seen).toEqual([SERVING_STATUS.SERVING, SERVING_STATUS.NOT_SERVING]);
      expect(await old.exited).toBe(0);

      const again = client(old.port);
      try {
        expect(await check(again)).toEqual({ status: SERVING_STATUS.SERVING, pid: String(next.child.pid) });
      } finally {
        again.close();
      }
    } finally {
      c.close();
    }
  }, 30_000);

  it('answers HTTP/1.1 with 505: gRPC needs HTTP/2', async () => {
    const server = await startReadyServer();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, method: 'POST', path: '/grpc.health.v1.Health/Check' },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer).toEqual({
      status: 505,
      body: 'gRPC needs HTTP/2: speak h2c with prior knowledge, or h2 over TLS\n',
    });
  });

  it('reads the request and writes the response by hand, refusing what it cannot read', () => {
    expect(serviceOf(grpcFrame(request('')))).toBe('');
    expect(serviceOf(grpcFrame(request('shop.Cart')))).toBe('shop.Cart');
    expect(serviceOf(Buffer.alloc(0))).toBe('');
    expect(serviceOf(Buffer.from([1, 0, 0, 0, 0]))).toEqual({ error: expect.stringContaining('compressed') });
    expect(serviceOf(Buffer.from([0, 0, 0, 0, 9, 0x0a]))).toEqual({ error: expect.stringContaining('length') });
    expect(serviceOf(grpcFrame(Buffer.from([0x10, 1])))).toEqual({ error: expect.stringContaining('does not know') });
    expect(grpcFrame(healthResponse(SERVING_STATUS.SERVING))).toEqual(Buffer.from([0, 0, 0, 0, 2, 0x08, 1]));
    expect(healthResponse(SERVING_STATUS.UNKNOWN)).toEqual(Buffer.alloc(0));
  });
});
