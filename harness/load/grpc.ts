// gRPC through a restart (--grpc health): the standard health service,
// grpc.health.v1.Health, that most gRPC servers register. Its unary Check is
// a request kind of the HTTP/2 load (h2-transport.ts), sent on the arrival
// schedule, so every call is classified as every stream is (answered,
// refused, reset, cut) and judged by the request checks; its Watch is the
// stream lane (grpc-lane.ts, @grpc/grpc-js), judged as the stream lane is.
// A call is answered when it ends with grpc-status 0 (OK) and one whole
// message; which process answered is read from the response metadata, as
// the identity says (x-server-pid by default).
import { createRequire } from 'node:module';
import type * as ProtoLoader from '@grpc/proto-loader';
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

/** A user's own unary method (--grpc-proto, --grpc-method, --grpc-body), ready to send. */
export interface GrpcMethod {
  /** `pkg.Service/Method`. */
  name: string;
  kind: RequestKind;
}

/**
 * The request kind of a unary method of the user's .proto file, its body
 * the JSON given, encoded as the method's request message. Every problem is
 * one line that names the flag and what would do.
 */
export function grpcMethodKind(protoFile: string, method: string, bodyJson: string): GrpcMethod {
  const match = /^([A-Za-z_][\w.]*)\/([A-Za-z_]\w*)$/.exec(method);
  if (!match) throw new GrpcSetupError(`--grpc-method ${JSON.stringify(method)} is not pkg.Service/Method`);
  const [, service, name] = match as unknown as [string, string, string];
  // Loaded only for a run that names a method: protobufjs is not small.
  const { loadSync } = createRequire(import.meta.url)('@grpc/proto-loader') as typeof ProtoLoader;
  let definition: ReturnType<typeof loadSync>;
  try {
    definition = loadSync(protoFile, { keepCase: true, defaults: true });
  } catch (error) {
    throw new GrpcSetupError(`--grpc-proto ${protoFile}: ${firstLine(error)}`);
  }
  const methods = definition[service] as Record<string, unknown> | undefined;
  const found = methods?.[name] as
    | {
        path: string;
        requestStream: boolean;
        responseStream: boolean;
        requestSerialize: (value: unknown) => Buffer;
        requestType: { type: { field?: { name: string }[] } };
      }
    | undefined;
  if (!methods || typeof found?.path !== 'string') {
    // Messages and enums carry a `format`; services are their methods by name.
    const services = Object.keys(definition).filter((key) => !('format' in (definition[key] as object)));
    throw new GrpcSetupError(
      `--grpc-method ${method} is not in ${protoFile}${services.length ? `; its services: ${services.join(', ')}` : ''}`,
    );
  }
  if (found.requestStream || found.responseStream)
    throw new GrpcSetupError(`--grpc-method ${method} streams; the load sends unary methods only`);
  let body: unknown;
  try {
    body = JSON.parse(bodyJson);
  } catch (error) {
    throw new GrpcSetupError(`--grpc-body is not JSON (${firstLine(error)})`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new GrpcSetupError('--grpc-body must be a JSON object: the fields of the request message');
  const fields = new Set((found.requestType.type.field ?? []).map((f) => f.name));
  const unknown = Object.keys(body).filter((key) => !fields.has(key));
  if (unknown.length)
    throw new GrpcSetupError(
      `--grpc-body: ${unknown.join(', ')} ${unknown.length === 1 ? 'is no field' : 'are no fields'} of ${method}'s request (its fields: ${[...fields].join(', ') || 'none'})`,
    );
  let message: Buffer;
  try {
    message = found.requestSerialize(body);
  } catch (error) {
    throw new GrpcSetupError(`--grpc-body does not fit ${method}'s request: ${firstLine(error)}`);
  }
  return {
    name: method,
    kind: {
      name: `gRPC ${method}`,
      method: 'POST',
      path: found.path,
      headers: { 'content-type': 'application/grpc', te: 'trailers' },
      body: grpcMessage(message),
      weight: 1,
    },
  };
}

/** A gRPC flag that cannot be used as given; the caller turns it into the run's usage error. */
export class GrpcSetupError extends Error {}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
