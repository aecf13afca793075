// HTTP/2 for the open model (open-load.ts): Node's own http2 client, h2c
// with prior knowledge or h2 through ALPN over TLS. Keep-alive: a few
// sessions, each carrying up to STREAMS_PER_SESSION streams at once, a new
// one opened only when every session is full or going. New connection per
// request: a session per stream, closed once it is answered.
//
// Every stream ends in exactly one way (h2-ledger.ts): answered; refused
// (REFUSED_STREAM, or above the last stream id of a GOAWAY: never processed,
// safe to send again); reset at or below it (lost); cut when the connection
// ended (lost). A session that receives any GOAWAY takes no new stream. By
// default nothing refused is sent again, so the server is what is judged;
// with retryRefused it is, on another session, as a compliant client does.
// One kind of stream is always sent again: one Node's client had queued but
// not yet written when a GOAWAY arrived, which it may not open on that
// session any more; the server never saw it.
import http2 from 'node:http2';
import type { InFlight } from './churn-load.js';
import { errorCodeName, type Http2Ledger, type StreamEnding } from './h2-ledger.js';
import { causeOfError, type FailureCause, type Outcome } from './recorder.js';
import type { RequestKind } from './request-mix.js';
import type { ResponseCheck } from './response-check.js';
import { type TlsSettings, tlsOptions } from './tls.js';

export type Protocol = 'http1' | 'h2c' | 'h2';
export const PROTOCOLS: readonly Protocol[] = ['http1', 'h2c', 'h2'];

/** Streams one keep-alive session carries at once; past that, another session is opened. */
export const STREAMS_PER_SESSION = 10;

/** A refused stream is sent this many times at most in all (--retry-refused). */
export const MAX_TRIES = 3;

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = http2.constants;
/** A stream that was never written is sent again at most this many times (each time a GOAWAY beat it). */
const MAX_RESENDS = 5;

/** The HEADERS frame's type: a stream whose HEADERS could not be sent never reached the server. */
const HEADERS_FRAME = 0x1;

/** A request as open-load.ts hands it over. */
export interface Http2Sent {
  dueAt: number;
  kind: RequestKind;
  done: (outcome: Outcome) => void;
}

export interface Http2Target {
  host: string;
  port: number;
  tls?: TlsSettings | null;
  retryRefused: boolean;
  ledger: Http2Ledger;
  check: ResponseCheck;
}

/** One client session: its streams in flight, and whether it may take more. */
class Session {
  readonly number: number;
  readonly client: http2.ClientHttp2Session;
  readonly streams = new Set<Exchange>();
  connected = false;
  /** A GOAWAY arrived, or this client is closing it: no new stream on it. */
  going = false;
  closedByUs = false;
  /** The lowest last stream id of a GOAWAY received; a stream above it was never processed. */
  lastStreamId = Infinity;
  /**
   * The newest session there was when this one got its first GOAWAY: those
   * may be on the same server, about to get theirs. A stream sent again
   * goes on a session opened after it.
   */
  horizon = 0;
  private error?: unknown;

  constructor(
    target: Http2Target,
    private readonly onClose: (session: Session) => void,
  ) {
    const { host, port, tls, ledger } = target;
    this.number = ledger.opened();
    const authority = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.client = http2.connect(authority, tls ? { ...tlsOptions(tls, host), ALPNProtocols: ['h2'] } : {});
    this.client.on('connect', () => (this.connected = true));
    this.client.on('error', (error) => (this.error = error));
    this.client.on('goaway', (errorCode: number, lastStreamId: number) => {
      if (!this.going) this.horizon = ledger.sessionsOpened;
      this.going = true;
      this.lastStreamId = Math.min(this.lastStreamId, lastStreamId);
      ledger.goaway(this.number, lastStreamId, errorCode);
    });
    this.client.on('close', () => {
      this.going = true;
      ledger.closed(this.number, this.connected && !this.closedByUs);
      onClose(this);
    });
  }

  get usable(): boolean {
    return !this.going && !this.client.closed && !this.client.destroyed;
  }

  /** Why a stream that never got an answer failed when the session did. */
  failureCause(): FailureCause {
    if (this.error) return causeOfError(this.error);
    return this.connected ? 'cut_in_flight' : 'connection_refused';
  }

  close(): void {
    this.closedByUs = true;
    this.going = true;
    this.client.close();
  }

  destroy(): void {
    this.closedByUs = true;
    this.going = true;
    this.client.destroy();
  }
}

/** An outcome before its latency is known. */
type Ending =
  | { ok: true; pid: number; version: string }
  | { ok: false; cause: FailureCause | 'stopped'; connectionFailed: boolean };

/** One stream: a request on a session, until it ends one way. */
class Exchange implements InFlight {
  private settled = false;
  private unsent = false;
  private readonly stream?: http2.ClientHttp2Stream;

  constructor(
    readonly sent: Http2Sent,
    readonly session: Session,
    private readonly owner: Http2Transport,
    private readonly tries: number,
    private readonly resends: number,
  ) {
    session.streams.add(this);
    const { kind } = sent;
    try {
      this.stream = session.client.request(
        { ':method': kind.method, ':path': kind.path, ...lowerCased(kind.headers) },
        { endStream: !kind.body },
      );
    } catch {
      // Node 20 says at once that the session is going; it never sent the stream.
      queueMicrotask(() => this.end({ unsent: true }));
      return;
    }
    const stream = this.stream;
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    // gRPC puts a call's outcome in trailers (grpc-status): a check reads them as headers.
    let trailers: http2.IncomingHttpHeaders = {};
    const body: Buffer[] = [];
    stream.on('trailers', (t) => (trailers = t));
    stream.on('response', (h) => {
      headers = h;
      status = Number(h[':status']);
    });
    stream.on('data', (chunk: Buffer) => body.push(chunk));
    stream.on('end', () => {
      // A stream reset or cut ends its readable side too: only a response that came whole is an answer.
      if (status === 0 || stream.rstCode) return;
      const header = (name: string) => {
        const value = headers[name] ?? trailers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      };
      const grpcStatus = header('grpc-status');
      if (grpcStatus !== undefined) owner.ledger.grpcStatus(grpcStatus);
      // A gRPC body is bytes: latin1 keeps each one as it came, for a check that reads them back.
      const encoding = header('content-type')?.startsWith('application/grpc') ? 'latin1' : 'utf8';
      this.end({ checked: owner.check(status, header, Buffer.concat(body).toString(encoding)) });
    });
    stream.on('frameError', (type: number) => {
      if (type === HEADERS_FRAME) this.unsent = true;
    });
    stream.on('error', () => {});
    stream.on('close', () => this.end({ closed: true }));
    if (kind.body) stream.end(kind.body);
  }

  get startedAt(): number {
    return this.sent.dueAt;
  }

  abort(cause: 'timeout' | 'stopped'): void {
    this.settle({ ok: false, cause, connectionFailed: !this.session.connected });
    this.stream?.close(NGHTTP2_CANCEL);
  }

  private end(how: { checked: ReturnType<ResponseCheck> } | { closed: true } | { unsent: true }): void {
    if (this.settled) return;
    if ('checked' in how) {
      if (how.checked.ok && this.tries > 1) this.owner.ledger.answeredAfterRetry();
      const { checked } = how;
      return this.settle(checked.ok ? checked : { ...checked, connectionFailed: false });
    }
    const stream = this.stream;
    const id = stream?.id;
    // Never written, on a session that was told to go: it goes on another. A session that never
    // connected is not that: its streams fail with the connection's cause.
    const unsent = 'unsent' in how || this.unsent || (id === undefined && this.session.connected);
    if (unsent && this.resends < MAX_RESENDS) {
      this.release();
      this.owner.ledger.resentUnsent();
      return this.owner.again(this.sent, this.tries, this.resends + 1, this.session.horizon);
    }
    if (unsent) return this.settle({ ok: false, cause: 'refused_stream', connectionFailed: false });
    if (id === undefined)
      return this.settle({ ok: false, cause: this.session.failureCause(), connectionFailed: !this.session.connected });
    const code = stream?.rstCode ?? 0;
    const ending: StreamEnding =
      id > this.session.lastStreamId
        ? 'crossed'
        : code === NGHTTP2_REFUSED_STREAM
          ? 'refused'
          : code === 0 || (this.session.client.destroyed && !this.session.closedByUs)
            ? // No RST_STREAM with a reason: the stream ended because its connection did.
              'cut'
            : 'reset';
    const ledger = this.owner.ledger;
    if ((ending === 'crossed' || ending === 'refused') && this.owner.retryRefused && this.tries < MAX_TRIES) {
      ledger.ended(ending, this.session.number, id, code);
      ledger.retried();
      this.release();
      // On another session: a newer one than this, and than any that shared this one's GOAWAY.
      return this.owner.again(
        this.sent,
        this.tries + 1,
        this.resends,
        Math.max(this.session.horizon, this.session.number),
      );
    }
    ledger.ended(ending, this.session.number, id, code);
    const cause: FailureCause =
      ending === 'crossed' || ending === 'refused'
        ? 'refused_stream'
        : ending === 'reset'
          ? 'stream_reset'
          : this.session.failureCause();
    this.settle({ ok: false, cause, connectionFailed: !this.session.connected });
  }

  private release(): void {
    this.settled = true;
    this.session.streams.delete(this);
    this.owner.freed(this.session);
  }

  private settle(ending: Ending): void {
    if (this.settled) return;
    this.release();
    this.sent.done({ ...ending, latencyMs: performance.now() - this.sent.dueAt });
  }
}

const lowerCased = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

/**
 * HTTP/2 streams to the target, at most `maxSessions` sessions open at once
 * (a stream sent again may open one more: it was due long ago).
 * `perSession`: streams a session carries at once (1: a session per
 * request, closed once it is answered).
 */
export class Http2Transport {
  private readonly sessions = new Set<Session>();
  readonly ledger: Http2Ledger;
  readonly check: ResponseCheck;
  readonly retryRefused: boolean;

  constructor(
    private readonly target: Http2Target,
    private readonly maxSessions: number,
    private readonly perSession: number,
    private readonly onFree: () => void,
    private readonly onSessions: (open: number) => void,
  ) {
    this.ledger = target.ledger;
    this.check = target.check;
    this.retryRefused = target.retryRefused;
  }

  send(request: Http2Sent): boolean {
    const session = this.sessionWithRoom(false);
    if (!session) return false;
    new Exchange(request, session, this, 1, 0);
    return true;
  }

  /** A stream that never reached the server, or was refused and may be retried: on another session, now. */
  again(request: Http2Sent, tries: number, resends: number, after: number): void {
    new Exchange(request, this.sessionWithRoom(true, after)!, this, tries, resends);
  }

  *inFlight(): Iterable<InFlight> {
    for (const session of this.sessions) yield* session.streams;
  }

  /** A stream ended on `session`: a one-stream session is closed; the queue may go on. */
  freed(session: Session): void {
    if (this.perSession === 1 && !session.closedByUs) session.close();
    queueMicrotask(this.onFree);
  }

  close(): void {
    for (const session of [...this.sessions]) {
      for (const exchange of [...session.streams]) exchange.abort('stopped');
      session.destroy();
    }
  }

  /** A session that may take a stream now, opened after session number `after`; undefined when none may be opened. */
  private sessionWithRoom(evenPastTheLimit: boolean, after = 0): Session | undefined {
    if (this.perSession > 1)
      for (const session of this.sessions)
        if (session.number > after && session.usable && session.streams.size < this.perSession) return session;
    if (this.sessions.size >= this.maxSessions && !evenPastTheLimit) return undefined;
    const session = new Session(this.target, (closed) => {
      this.sessions.delete(closed);
      this.onFree();
    });
    this.sessions.add(session);
    this.onSessions(this.sessions.size);
    return session;
  }
}

/** How long the check that the target speaks HTTP/2 keeps trying for an answer. */
export const PROBE_TIMEOUT_MS = 5_000;

/** Between two tries of that check. */
const PROBE_RETRY_MS = 200;

/**
 * Streams to the target before any load, until one is answered: a target
 * that does not speak HTTP/2 (an HTTP/1.1-only server, an h2c request to a
 * TLS port) is said so in one line, not found out from a run of failed
 * streams. A target still getting ready (a port published by Docker accepts
 * connections before the server in the container listens) is tried again
 * for PROBE_TIMEOUT_MS. Resolves with null once one answered (any status),
 * else with what went wrong the last time.
 */
export async function probeHttp2(
  target: Omit<Http2Target, 'ledger' | 'check' | 'retryRefused'>,
  request: ProbeRequest,
): Promise<string | null> {
  const until = Date.now() + PROBE_TIMEOUT_MS;
  for (;;) {
    const problem = await probeOnce(target, request, Math.max(100, until - Date.now()));
    if (problem === null || Date.now() + PROBE_RETRY_MS >= until) return problem;
    await new Promise((resolve) => setTimeout(resolve, PROBE_RETRY_MS));
  }
}

/**
 * What the probe sends: the load's first request kind as it is (a gRPC
 * server resets a stream that is not a gRPC call), or a GET of the path.
 */
export type ProbeRequest = Pick<RequestKind, 'method' | 'path' | 'headers' | 'body'>;

/** One stream: null when it was answered, else what went wrong. */
function probeOnce(
  target: Omit<Http2Target, 'ledger' | 'check' | 'retryRefused'>,
  request: ProbeRequest,
  timeoutMs: number,
): Promise<string | null> {
  const { host, port, tls } = target;
  const authority = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    const session = http2.connect(authority, tls ? { ...tlsOptions(tls, host), ALPNProtocols: ['h2'] } : {});
    const done = (problem: string | null) => {
      clearTimeout(timer);
      session.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(`no HTTP/2 answer within ${PROBE_TIMEOUT_MS / 1000} s`), timeoutMs);
    const said = (error: NodeJS.ErrnoException) => (error.code ? `${error.code}: ${error.message}` : error.message);
    session.on('error', (error: NodeJS.ErrnoException) => done(said(error)));
    session.on('close', () => done('the connection closed before an HTTP/2 answer'));
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ...request.headers, ':method': request.method, ':path': request.path });
    } catch (error) {
      return done((error as Error).message);
    }
    stream.on('response', () => done(null));
    stream.on('error', (error: NodeJS.ErrnoException) => done(said(error)));
    stream.on('close', () => done(`the stream closed before an answer (${errorCodeName(stream.rstCode ?? 0)})`));
    stream.end(request.body ?? undefined);
  });
}
