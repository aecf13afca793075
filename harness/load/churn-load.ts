// Fresh-connection load: every request on a new TCP connection, the way a
// stream of separate clients hits a server. Each request is a raw socket that
// writes one prebuilt `GET ... Connection: close` and reads the response
// through http-parser-js (the parser autocannon uses): about three times the
// rate of Node's http client with no agent, whose request object, agent
// bookkeeping and parser per request made it the limit of this load
// (BENCHMARKS.md, "Harness ceiling"). Nothing is retried; a response is
// judged whole, body included.
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { HTTPParser } from 'http-parser-js';
import { RECONNECT_DELAY_MS } from './compliant-client.js';
import type { RunningLoad } from './keepalive-load.js';
import { resetAtEof } from './peer-reset.js';
import { causeOfError, type FailureCause, type LoadSink, type Outcome, record } from './recorder.js';
import { plainGet, requestBytes, type RequestMix, weightedOrder } from './request-mix.js';
import { type Checked, checkOurServer, type ResponseCheck } from './response-check.js';
import { type TlsSettings, tlsOptions } from './tls.js';

export interface ChurnOptions {
  host: string;
  port: number;
  /** HTTPS: each connection is a TLS handshake, then the request. */
  tls?: TlsSettings | null;
  /** Requests in flight at once (one connection each). */
  concurrency: number;
  /** Hard upper bound; normally stopped earlier with stop(). */
  maxSeconds: number;
  timeoutSeconds: number;
  /** How long stop() waits for requests in flight before giving up on them. */
  settleMs: number;
  /** The path each request asks for (default: /), when there is no mix. */
  path?: string;
  /** The kinds of request to send, each outcome to its kind's sink instead of the load's. */
  mix?: RequestMix;
  /** How a response is judged (default: our server's own body and headers). */
  check?: ResponseCheck;
}

/** What a new connection writes: one GET that asks the server to close after answering. */
export function getBytes(host: string, port: number, path: string): Buffer {
  return requestBytes(plainGet(path), host, port, true);
}

/**
 * Every socket reads into this one buffer: its bytes are parsed (and the
 * body copied out) in the read callback, before the next read can reuse it.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

type Ending = Checked | { ok: false; cause: FailureCause | 'stopped' };

/** A request on the wire, until its connection is closed: when it was sent, and how to give up on it. */
export interface InFlight {
  readonly startedAt: number;
  /** Closes the connection; the request ends with `cause` unless it already ended. */
  abort(cause: 'timeout' | 'stopped'): void;
}

/**
 * A response parser reused from one request to the next (its handlers are
 * set once, and act on the exchange it is parsing now): a parser and three
 * closures per request were a tenth of this load's CPU.
 */
export class ResponseParser {
  readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  current?: Exchange;

  constructor() {
    this.parser[HTTPParser.kOnHeadersComplete] = (info) =>
      this.current?.headersDone(info.statusCode, info.headers, !info.shouldKeepAlive);
    this.parser[HTTPParser.kOnBody] = (chunk, offset, length) => this.current?.bodyPart(chunk, offset, length);
    this.parser[HTTPParser.kOnMessageComplete] = () => this.current?.complete();
  }

  /** Starts on a new response for `exchange`. */
  begin(exchange: Exchange): void {
    this.current = exchange;
    this.parser.reinitialize(HTTPParser.RESPONSE);
  }
}

/**
 * One GET on a new connection. Calls `done` exactly once with how it ended,
 * and `gone` once its connection is closed (after the server's FIN, which
 * can trail the response). Time limits and giving up are the caller's:
 * `abort`. A connection the server closes without a response is a
 * `silent_loss`, one closed in the middle of it a `corrupt_body`, one reset
 * a `connection_reset`.
 */
export class Exchange implements InFlight {
  private readonly socket: net.Socket | tls.TLSSocket;
  private settled = false;
  private connected = false;
  private closed = false;
  private received = 0;
  private status = 0;
  private headers: string[] = [];
  private serverCloses = false;
  private body: Buffer[] = [];

  constructor(
    target: { host: string; port: number; tls?: TlsSettings | null },
    bytes: Buffer,
    private readonly check: ResponseCheck,
    private readonly parser: ResponseParser,
    private readonly done: (outcome: Outcome) => void,
    private readonly gone: () => void,
    /** What its latency is counted from (performance.now()): now, or when an open load's request fell due. */
    readonly startedAt = performance.now(),
  ) {
    parser.begin(this);
    if (target.tls) {
      // TLS decrypts into its own buffers: no onread. The request goes once the handshake is done (TLS buffers it until then).
      this.socket = tls.connect({ host: target.host, port: target.port, ...tlsOptions(target.tls, target.host) });
      this.socket.on('data', (chunk: Buffer) => this.read(chunk, chunk.length));
    } else {
      this.socket = net.connect({
        host: target.host,
        port: target.port,
        onread: { buffer: READ_BUFFER, callback: (length) => this.read(READ_BUFFER, length) },
      });
    }
    // One small write: Nagle's algorithm never holds the first segment back, so no TCP_NODELAY (a syscall per connection).
    this.socket.write(bytes);
    this.socket.on('connect', () => (this.connected = true));
    // The server's FIN: a body that runs until the close ends here, anything else came up short.
    // Or a reset that came with the last data, which libuv reports as an EOF (peer-reset.ts).
    this.socket.on('end', () => {
      if (!this.settled && resetAtEof(this.socket)) return this.settle({ ok: false, cause: 'connection_reset' });
      const finished = this.settled ? undefined : this.parser.parser.finish();
      this.settle({
        ok: false,
        cause: finished instanceof Error || this.received > 0 ? 'corrupt_body' : 'silent_loss',
      });
    });
    this.socket.on('error', (error) => this.settle({ ok: false, cause: causeOfError(error) }));
  }

  abort(cause: 'timeout' | 'stopped'): void {
    this.settle({ ok: false, cause });
  }

  headersDone(status: number, headers: string[], serverCloses: boolean): void {
    this.status = status;
    this.headers = headers;
    this.serverCloses = serverCloses;
  }

  bodyPart(chunk: Buffer, offset: number, length: number): void {
    // READ_BUFFER is reused by the next read: keep a copy.
    this.body.push(Buffer.from(chunk.subarray(offset, offset + length)));
  }

  complete(): void {
    const headers = this.headers;
    const header = (name: string) => {
      for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return headers[i + 1];
      return undefined;
    };
    const body = this.body.length === 1 ? this.body[0]!.toString('utf8') : Buffer.concat(this.body).toString('utf8');
    this.settle(this.check(this.status, header, body), !this.serverCloses);
  }

  private read(buffer: Buffer, length: number): boolean {
    this.received += length;
    // After the response: read on (and discard) until the server's FIN.
    if (this.settled) return true;
    const parsed = this.parser.parser.execute(buffer, 0, length);
    if (parsed instanceof Error) this.settle({ ok: false, cause: 'corrupt_body' });
    return true;
  }

  /**
   * Reports how the request ended. The socket is closed at once, unless the
   * server said it would close it (`Connection: close`): then the client
   * waits for that FIN, as wrk and browsers do, so that the server and not
   * the load generator holds the TIME_WAIT. A client that closes first
   * piles up TIME_WAIT sockets, which every later connect() searches for a
   * free port.
   */
  private settle(ending: Ending, closeNow = true): void {
    if (closeNow && !this.closed) {
      this.closed = true;
      this.socket.destroy();
      this.gone();
    }
    if (this.settled) return;
    this.settled = true;
    if (this.parser.current === this) this.parser.current = undefined;
    const outcome = ending as Outcome;
    outcome.latencyMs = performance.now() - this.startedAt;
    if (!outcome.ok) outcome.connectionFailed = !this.connected;
    this.done(outcome);
  }
}

/** Sends one GET on a new connection and reports how it ended. Never rejects; `signal` gives up on it. */
export function requestOnce(
  target: { host: string; port: number; timeoutSeconds: number },
  path = '/',
  signal?: AbortSignal,
  check: ResponseCheck = checkOurServer,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const finished = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    };
    const request = new Exchange(
      target,
      getBytes(target.host, target.port, path),
      check,
      new ResponseParser(),
      resolve,
      finished,
    );
    // Also ends a connection left open after its response, by a server that said it would close it.
    const timer = setTimeout(() => request.abort('timeout'), target.timeoutSeconds * 1000);
    const stop = () => request.abort('stopped');
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** Starts `concurrency` request loops; each sends its next request when the last one is accounted for. */
export function startChurnLoad(options: ChurnOptions, sink: LoadSink): RunningLoad {
  let stopping = false;
  const deadline = Date.now() + options.maxSeconds * 1000;
  // Each loop goes through the mix's order from its own place in it; every
  // request's bytes are built once.
  const kinds = options.mix?.kinds ?? [plainGet(options.path ?? '/')];
  const bytes = kinds.map((kind) => requestBytes(kind, options.host, options.port, true));
  const sinks = kinds.map((_, kind) => options.mix?.sinkOf(kind) ?? sink);
  const order = weightedOrder(kinds.map((k) => k.weight));
  let loopsStarted = 0;
  const check = options.check ?? checkOurServer;
  // One sweep for the whole load instead of a timer per request: requests
  // older than the timeout are ended, and after stop() those still out are.
  const inFlight = new Set<InFlight>();
  const timeoutMs = options.timeoutSeconds * 1000;
  const sweeper = setInterval(
    () => {
      const now = performance.now();
      for (const request of inFlight) if (now - request.startedAt >= timeoutMs) request.abort('timeout');
    },
    Math.min(250, timeoutMs / 4),
  );
  const loop = async () => {
    const parser = new ResponseParser();
    let step = loopsStarted++;
    while (!stopping && Date.now() < deadline) {
      const kind = order[step++ % order.length]!;
      const kindSink = sinks[kind]!;
      kindSink.written();
      const outcome = await new Promise<Outcome>((resolve) => {
        const request: InFlight = new Exchange(options, bytes[kind]!, check, parser, resolve, () =>
          inFlight.delete(request),
        );
        inFlight.add(request);
      });
      record(kindSink, outcome);
      // Like any real client, do not hammer a closed port.
      if (!outcome.ok && outcome.connectionFailed) await sleep(RECONNECT_DELAY_MS);
    }
  };
  const loops = Promise.all(Array.from({ length: options.concurrency }, loop));
  return {
    async stop() {
      stopping = true;
      // Requests in flight get the settle time to finish; then they are given up on, and counted.
      const timer = setTimeout(() => {
        for (const request of inFlight) request.abort('stopped');
      }, options.settleMs);
      await loops;
      clearTimeout(timer);
      clearInterval(sweeper);
      // Connections answered but not yet closed by their server: nothing is left open.
      for (const request of inFlight) request.abort('stopped');
    },
  };
}
