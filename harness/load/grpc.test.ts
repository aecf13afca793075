// What counts as an answered gRPC call, and how a Watch's end is judged:
// grpc-status 0 with one whole message is an answer, named by its metadata;
// anything else fails with the cause that says why. A Watch that ends OK or
// UNAVAILABLE ended gracefully; CANCELLED, or a call that never opened, did not.
import { describe, expect, it } from 'vitest';
import { endingText } from '../checks/load.js';
import { endedGracefully } from '../result/lanes.js';
import { grpcStatusName } from './h2-ledger.js';
import { grpcCheck, grpcMessage, healthCheckKind, ourServerInMetadata } from './grpc.js';

const check = grpcCheck(ourServerInMetadata);
const metadata =
  (fields: Record<string, string>) =>
  (name: string): string | undefined =>
    fields[name];
const oneMessage = grpcMessage(Buffer.from([0x08, 1])).toString('latin1');

describe('gRPC calls', () => {
  it('answered: HTTP 200, grpc-status 0, one whole message; the PID and version from the metadata', () => {
    const header = metadata({ 'grpc-status': '0', 'x-server-pid': '42', 'x-server-version': 'v2' });
    expect(check(200, header, oneMessage)).toEqual({ ok: true, pid: 42, version: 'v2' });
  });

  it('failed, each with its cause: another status, a cut message, no HTTP 200, no PID', () => {
    const pid = { 'x-server-pid': '42' };
    expect(check(200, metadata({ 'grpc-status': '14', ...pid }), oneMessage)).toEqual({
      ok: false,
      cause: 'grpc_error',
    });
    expect(check(200, metadata(pid), oneMessage)).toEqual({ ok: false, cause: 'grpc_error' });
    expect(check(200, metadata({ 'grpc-status': '0', ...pid }), oneMessage.slice(0, 6))).toEqual({
      ok: false,
      cause: 'corrupt_body',
    });
    expect(check(503, metadata({ 'grpc-status': '0', ...pid }), oneMessage)).toEqual({ ok: false, cause: 'non_2xx' });
    expect(check(200, metadata({ 'grpc-status': '0' }), oneMessage)).toEqual({ ok: false, cause: 'corrupt_body' });
  });

  it('Check for the whole server: an empty HealthCheckRequest, with the headers gRPC needs', () => {
    expect(healthCheckKind()).toMatchObject({
      method: 'POST',
      path: '/grpc.health.v1.Health/Check',
      headers: { 'content-type': 'application/grpc', te: 'trailers' },
      body: Buffer.from([0, 0, 0, 0, 0]),
    });
  });

  it('names statuses, and bounds a status gRPC does not define (the target sent it)', () => {
    expect([0, 1, 14].map(grpcStatusName)).toEqual(['OK', 'CANCELLED', 'UNAVAILABLE']);
    expect(grpcStatusName('99')).toBe('status 99');
    expect(grpcStatusName('\u001b[31mred and very long text')).toBe('status ??31mred?and');
  });

  it('a Watch ended gracefully on OK or UNAVAILABLE only; its end is said with the status name', () => {
    expect(endedGracefully('grpc', { how: 'status', code: 0 })).toBe(true);
    expect(endedGracefully('grpc', { how: 'status', code: 14 })).toBe(true);
    expect(endedGracefully('grpc', { how: 'status', code: 1 })).toBe(false);
    expect(endedGracefully('grpc', { how: 'error', code: 14 })).toBe(false);
    expect(endingText('grpc', { how: 'status', code: 1 })).toBe('status CANCELLED');
    expect(endingText('grpc', { how: 'error', code: 14 })).toBe('failed to open (UNAVAILABLE)');
  });
});
