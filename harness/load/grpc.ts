// gRPC through a restart (--grpc health): the standard health service,
// grpc.health.v1.Health, that most gRPC servers register. Its unary Check is
// a request kind of the HTTP/2 load (h2-transport.ts), sent on the arrival
// schedule, so every call is classified as every stream is (answered,
// refused, reset, cut) and judged by the request checks; its Watch is the
// stream lane (grpc-lane.ts, @grpc/grpc-js), judged as the stream lane is.
// A call is answered when it ends with grpc-status 0 (OK) and one whole
// message; which process answered is read from the response metadata, as
// the identity says (x-server-pid by default).
import type { RequestKind } from './request-mix.js';
import type { Checked, ResponseCheck } from './response-check.js';

/** Our server's identity in a gRPC answer: its PID and version in the response metadata. */
export function ourServerInMetadata(header: (name: string) => string | undefined): Checked {
  const pid = Number(header('x-server-pid'));
  return Number.isInteger(pid) && pid > 0
    ? { ok: true, pid, version: header('x-server-version') ?? '' }
    : { ok: false, cause: 'corrupt_body' };
}

export const GRPC_SERVICES = ['health'] as const;
export type GrpcService = (typeof GRPC_SERVICES)[number];

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
export const HEALTH_WATCH_PATH = '/grpc.health.v1.Health/Watch';

/** One gRPC message on the wire: not compressed, its length, its bytes. */
export function grpcMessage(bytes: Buffer): Buffer {
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  bytes.copy(frame, 5);
  return frame;
}

/** grpc.health.v1.Health/Check for the whole server (an empty HealthCheckRequest), as a request kind. */
export function healthCheckKind(): RequestKind {
  return {
    name: 'gRPC Health/Check',
    method: 'POST',
    path: HEALTH_CHECK_PATH,
    headers: { 'content-type': 'application/grpc', te: 'trailers' },
    body: grpcMessage(Buffer.alloc(0)),
    weight: 1,
  };
}

/**
 * A check for gRPC answers: HTTP 200, grpc-status 0, and exactly one whole
 * message in the body; then `identify` says which process answered, from
 * the metadata (headers and trailers alike).
 */
export function grpcCheck(identify: (header: (name: string) => string | undefined) => Checked): ResponseCheck {
  return (status, header, body) => {
    if (status !== 200) return { ok: false, cause: 'non_2xx' };
    if (header('grpc-status') !== '0') return { ok: false, cause: 'grpc_error' };
    // The body reached the check as text: one message is its 5-byte prefix and the length it names.
    const bytes = Buffer.from(body, 'latin1');
    if (bytes.length < 5 || bytes.readUInt32BE(1) !== bytes.length - 5) return { ok: false, cause: 'corrupt_body' };
    return identify(header);
  };
}
