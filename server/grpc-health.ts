// The standard gRPC health service, grpc.health.v1.Health, over our HTTP/2:
// Check (unary) and Watch (a server stream), which most gRPC servers
// register, so a gRPC client can be pointed at this server through a
// restart. Its two messages are one field each, so they are encoded here by
// hand: a gRPC message on the wire is a 5-byte prefix (a compressed flag,
// then the length as 4 bytes big-endian) before its protobuf bytes, and the
// call's outcome comes last, in the grpc-status trailer (gRPC over HTTP/2,
// PROTOCOL-HTTP2.md in grpc/grpc).
//
// While the server drains, Check answers NOT_SERVING (readiness is withdrawn,
// as /healthz answers 503), and each Watch gets NOT_SERVING and is ended with
// status OK at the drain's start (drain.ts, line 8): the client watches again,
// and the port gives it a server that is serving.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Every path of the service starts so; the method follows. */
export const HEALTH_PATH = '/grpc.health.v1.Health/';

/** HealthCheckResponse.ServingStatus. */
export const SERVING_STATUS = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;

/** The gRPC status codes this service answers with (grpc/grpc doc/statuscodes.md). */
export const GRPC_STATUS = { OK: 0, INVALID_ARGUMENT: 3, NOT_FOUND: 5, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;

/** A request larger than this is no HealthCheckRequest of any service name worth answering. */
const MAX_REQUEST_BYTES = 4096;

/** One gRPC message: the uncompressed flag, the length, the bytes. */
export function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** HealthCheckResponse { ServingStatus status = 1; }: a varint field, left out when 0 (proto3). */
export function healthResponse(status: number): Buffer {
  return status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status]);
}

/**
 * HealthCheckRequest { string service = 1; } from the bytes of one gRPC
 * message: the service asked about ('' for the whole server), or an error.
 */
export function serviceOf(body: Buffer): string | { error: string } {
  if (body.length < 5) return body.length === 0 ? '' : { error: 'a truncated gRPC message' };
  if (body[0] !== 0) return { error: 'a compressed message (this service takes none)' };
  const length = body.readUInt32BE(1);
  if (length !== body.length - 5) return { error: 'a message whose length is not what its prefix says' };
  let service = '';
  for (let at = 5; at < body.length;) {
    const key = body[at++]!;
    // Field 1, length-delimited: the service name (short: a one-byte length).
    if (key === 0x0a && at < body.length && body[at]! < 0x80) {
      const size = body[at++]!;
      if (at + size > body.length) return { error: 'a field longer than the message' };
      service = body.subarray(at, at + size).toString('utf8');
      at += size;
    } else return { error: 'a field this service does not know' };
  }
  return service;
}

export interface HealthContext {
  identity: Record<string, string>;
  isDraining: () => boolean;
  holdStream: (res: ServerResponse, end: () => void) => void;
}

/** Answers a call to grpc.health.v1.Health (Check or Watch) at `method`. */
export function serveHealth(req: IncomingMessage, res: ServerResponse, method: string, context: HealthContext): void {
  // No message, the status in trailers. (Not a trailers-only response: through Node's compatibility API the
  // headers go out without END_STREAM, and a gRPC client then takes grpc-status in them for no status at all.)
  const fail = (status: number, message: string) => {
    res.writeHead(200, { ...context.identity, 'content-type': 'application/grpc' });
    res.addTrailers({ 'grpc-status': String(status), 'grpc-message': encodeURIComponent(message) });
    res.end();
  };
  if (req.httpVersionMajor < 2) {
    res.writeHead(505, { ...context.identity, 'content-type': 'text/plain; charset=utf-8' });
    res.end('gRPC needs HTTP/2: speak h2c with prior knowledge, or h2 over TLS\n');
    return;
  }
  if (method !== 'Check' && method !== 'Watch') return fail(GRPC_STATUS.UNIMPLEMENTED, `no method ${method}`);
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    if (size > MAX_REQUEST_BYTES) return fail(GRPC_STATUS.INVALID_ARGUMENT, 'the request is too large');
    const service = serviceOf(Buffer.concat(chunks));
    if (typeof service !== 'string') return fail(GRPC_STATUS.INVALID_ARGUMENT, service.error);
    // This server is one service: the whole server ('') is all it knows.
    const known = service === '';
    const status = () =>
      !known
        ? SERVING_STATUS.SERVICE_UNKNOWN
        : context.isDraining()
          ? SERVING_STATUS.NOT_SERVING
          : SERVING_STATUS.SERVING;
    if (method === 'Check' && !known) return fail(GRPC_STATUS.NOT_FOUND, `unknown service ${service}`);
    res.writeHead(200, { ...context.identity, 'content-type': 'application/grpc' });
    const first = status();
    res.write(grpcFrame(healthResponse(first)));
    if (method === 'Check') {
      res.addTrailers({ 'grpc-status': String(GRPC_STATUS.OK) });
      res.end();
      return;
    }
    // Watch: held until the drain begins, then told NOT_SERVING and ended with OK.
    context.holdStream(res, () => {
      if (res.writableEnded || res.destroyed) return;
      if (first !== SERVING_STATUS.NOT_SERVING) res.write(grpcFrame(healthResponse(SERVING_STATUS.NOT_SERVING)));
      res.addTrailers({ 'grpc-status': String(GRPC_STATUS.OK) });
      res.end();
    });
  });
}
