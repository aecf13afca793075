// A request mix: the kinds of request a load sends (method, path, headers,
// body), each with a weight, interleaved in a fixed order so that every
// stretch of the run carries the mix in its proportions. The default is one
// kind, GET on one path. Per-kind results let the verdict say which kind was
// lost at a switchover, and call out a lost request that is not idempotent.
import type { LoadSink } from './recorder.js';

export interface RequestKind {
  /** How the kind is named in results: `METHOD PATH` unless given. */
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
  /** Relative share of the requests, a whole number from 1 to 100. */
  weight: number;
}

/** A load's mix, and where each kind's outcomes go. */
export interface RequestMix {
  kinds: RequestKind[];
  sinkOf: (kind: number) => LoadSink;
}

/** RFC 9110 section 9.2.2: a client may send these again after a failure without changing the outcome. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export const isIdempotent = (method: string) => IDEMPOTENT.has(method.toUpperCase());

/**
 * The order the kinds are sent in, one full round of the weights: each kind
 * as many times as its weight, spread out (smooth weighted round-robin), so
 * 3:1 is A A B A, not A A A B.
 */
export function weightedOrder(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, w) => sum + w, 0);
  const current = weights.map(() => 0);
  const order: number[] = [];
  for (let step = 0; step < total; step++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    order.push(best);
  }
  return order;
}

/** The bytes of one HTTP/1.1 request of `kind`, with a Content-Length for its body; `close` asks the server to close after answering. */
export function requestBytes(
  kind: Pick<RequestKind, 'method' | 'path' | 'headers' | 'body'>,
  host: string,
  port: number,
  close: boolean,
): Buffer {
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const lines = [`${kind.method} ${kind.path} HTTP/1.1`, `Host: ${authority}`];
  for (const [name, value] of Object.entries(kind.headers)) lines.push(`${name}: ${value}`);
  if (kind.body) lines.push(`Content-Length: ${kind.body.length}`);
  if (close) lines.push('Connection: close');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return kind.body ? Buffer.concat([head, kind.body]) : head;
}

/** The one kind a load sends without a mix. */
export function plainGet(path: string): RequestKind {
  return { name: `GET ${path}`, method: 'GET', path, headers: {}, body: null, weight: 1 };
}
