// The open model: each load mode sends at a rate, on a schedule that never
// waits for answers (arrivals.ts), the way users arrive. A request's latency
// runs from when it fell due, a wait for a free connection included.
//
// - New connection per request: a connection is opened when the request is
//   due, whatever else is outstanding (churn-load.ts's Exchange, one GET
//   with Connection: close).
// - Keep-alive: a request takes an idle connection from a pool, the most
//   recently used first (Node's http.Agent schedules the same way), and the
//   pool opens another when none is idle. A response that says
//   `Connection: close` retires its connection, as a compliant client does;
//   a connection idle for longer than the server says it keeps one (its
//   Keep-Alive header), or 4 s, is closed by the client first.
//
// Both modes open at most `maxConnections` at once (every fd is the
// harness's, and a frozen server would otherwise collect thousands); past
// that a request waits, first in first out, and its wait is counted in its
// latency and in the schedule's record. Nothing is retried.
import net from 'node:net';
import tls from 'node:tls';
import { HTTPParser } from 'http-parser-js';
import { Arrivals, epochOf, type ScheduleSink } from './arrivals.js';
import { Exchange, type InFlight, ResponseParser } from './churn-load.js';
import { RECONNECT_DELAY_MS } from './compliant-client.js';
import type { RunningLoad } from './keepalive-load.js';
import type { LoadMode } from './modes.js';
import { resetAtEof } from './peer-reset.js';
import { causeOfError, type FailureCause, type LoadSink, type Outcome, record } from './recorder.js';
import { Http2Transport, STREAMS_PER_SESSION } from './h2-transport.js';
import type { Http2Ledger } from './h2-ledger.js';
import { plainGet, requestBytes, type RequestKind, type RequestMix, weightedOrder } from './request-mix.js';
import { checkOurServer, type ResponseCheck } from './response-check.js';
import { type TlsSettings, tlsOptions } from './tls.js';

export interface OpenLoadOptions {
  mode: LoadMode;
  host: string;
  port: number;
  tls?: TlsSettings | null;
  /**
   * Requests per second this load sends; `{ concurrency }` instead: at full
   * speed, that many in flight at all times, each sent as soon as another
   * ended (the calibration's way of finding what the target answers with
   * this very client).
   */
  ratePerSecond: number | { concurrency: number };
  /** Connections open at once, at most; a request due when all are busy waits for one. */
  maxConnections: number;
  /** Hard upper bound; normally stopped earlier with stop(). */
  maxSeconds: number;
  /** A request unanswered this long after it fell due is given up on. */
  timeoutSeconds: number;
  /** How long stop() waits for requests in flight before giving up on them. */
  settleMs: number;
  /** The path each request asks for (default: /), when there is no mix. */
  path?: string;
  mix?: RequestMix;
  check?: ResponseCheck;
  /** HTTP/2 instead of HTTP/1.1 (h2-transport.ts): streams on sessions, each stream's ending in the ledger. */
  http2?: { protocol: 'h2c' | 'h2'; retryRefused: boolean; ledger: Http2Ledger } | null;
}

/** A keep-alive connection idle this long is closed by the client, unless the server says it keeps one for less (undici's default is the same 4 s). */
export const IDLE_CLOSE_MS = 4_000;

/** Closed this much before the server's own Keep-Alive timeout, so that the two never cross. */
const KEEP_ALIVE_MARGIN_MS = 1_000;

/** Every plain socket reads into this one buffer; its bytes are parsed in the read callback, before the next read can reuse it. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** What a transport is told about a request it sends. */
interface Sent {
  seq: number;
  /** performance.now() ms when it fell due: its latency counts from here. */
  dueAt: number;
  /** The request, and its HTTP/1.1 bytes. */
  kind: RequestKind;
  bytes: Buffer;
  done: (outcome: Outcome) => void;
}

/** How requests reach the target: a connection each, or a pool of keep-alive ones. */
interface Transport {
  /** Sends now if a connection is free or may be opened; false when every connection the load may open is busy. */
  send(request: Sent): boolean;
  /** Requests on the wire now. */
  inFlight(): Iterable<InFlight>;
  /** Closes every connection, idle ones included, ending what is in flight as stopped. */
  close(): void;
}

/** The `keep-alive: timeout=N` a server announces, in ms, or undefined. */
export function keepAliveTimeoutMs(value: string | undefined): number | undefined {
  const match = value ? /(?:^|[,;\s])timeout=(\d+)/i.exec(value) : null;
  return match ? Number(match[1]) * 1000 : undefined;
}

/** The exchange on a pooled connection that is waiting for its response. */
interface Current {
  request: Sent;
  received: number;
  status: number;
  headers: string[];
  serverCloses: boolean;
  body: Buffer[];
}

/** One keep-alive connection: one request at a time, reused while the server keeps it. */
class PooledConnection implements InFlight {
  readonly socket: net.Socket | tls.TLSSocket;
  private readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  private current?: Current;
  private connected = false;
  /** The server said it will close, or the client gave up on it: never reused. */
  retired = false;
  idleSince = 0;
  idleLimitMs = IDLE_CLOSE_MS;

  constructor(
    target: { host: string; port: number; tls?: TlsSettings | null },
    private readonly check: ResponseCheck,
    private readonly pool: KeepAlivePool,
  ) {
    this.parser[HTTPParser.kOnHeadersComplete] = (info) => {
      if (!this.current) return;
      Object.assign(this.current, {
        status: info.statusCode,
        headers: info.headers,
        serverCloses: !info.shouldKeepAlive,
      });
    };
    this.parser[HTTPParser.kOnBody] = (chunk, offset, length) =>
      this.current?.body.push(Buffer.from(chunk.subarray(offset, offset + length)));
    this.parser[HTTPParser.kOnMessageComplete] = () => this.complete();
    if (target.tls) {
      this.socket = tls.connect({ host: target.host, port: target.port, ...tlsOptions(target.tls, target.host) });
      this.socket.on('data', (chunk: Buffer) => this.read(chunk, chunk.length));
    } else {
      this.socket = net.connect({
        host: target.host,
        port: target.port,
        onread: { buffer: READ_BUFFER, callback: (length) => this.read(READ_BUFFER, length) },
      });
    }
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => (this.connected = true));
    this.socket.on('end', () => {
      if (this.current)
        this.fail(
          resetAtEof(this.socket) ? 'connection_reset' : this.current.received > 0 ? 'corrupt_body' : 'silent_loss',
        );
      this.socket.destroy();
    });
    this.socket.on('error', (error) => {
      if (this.current) this.fail(causeOfError(error));
    });
    this.socket.on('close', () => {
      if (this.current) this.fail('silent_loss');
      this.pool.closed(this);
    });
  }

  get startedAt(): number {
    return this.current?.request.dueAt ?? Infinity;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  send(request: Sent): void {
    this.current = { request, received: 0, status: 0, headers: [], serverCloses: false, body: [] };
    this.parser.reinitialize(HTTPParser.RESPONSE);
    this.socket.write(request.bytes);
  }

  abort(cause: 'timeout' | 'stopped'): void {
    this.retired = true;
    if (this.current) this.settle({ ok: false, cause });
    this.socket.destroy();
  }

  private read(buffer: Buffer, length: number): boolean {
    if (!this.current) {
      // Bytes nobody asked for (a 408 before an idle close, say): this connection is not to be trusted again.
      this.retired = true;
      this.socket.destroy();
      return true;
    }
    this.current.received += length;
    const parsed = this.parser.execute(buffer, 0, length);
    if (parsed instanceof Error) {
      this.fail('corrupt_body');
      this.retired = true;
      this.socket.destroy();
    }
    return true;
  }

  private complete(): void {
    const current = this.current;
    if (!current) return;
    const { headers } = current;
    const header = (name: string) => {
      for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return headers[i + 1];
      return undefined;
    };
    const body =
      current.body.length === 1 ? current.body[0]!.toString('utf8') : Buffer.concat(current.body).toString('utf8');
    if (current.serverCloses) this.retired = true;
    const hint = keepAliveTimeoutMs(header('keep-alive'));
    if (hint !== undefined) this.idleLimitMs = Math.max(0, Math.min(IDLE_CLOSE_MS, hint - KEEP_ALIVE_MARGIN_MS));
    this.settle(this.check(current.status, header, body));
    // A retired connection waits for the server's FIN (the server holds the TIME_WAIT); otherwise it is idle again.
    if (!this.retired) this.pool.idle(this);
  }

  private fail(cause: FailureCause): void {
    this.retired = true;
    this.settle({ ok: false, cause });
  }

  private settle(
    ending: { ok: true; pid: number; version: string } | { ok: false; cause: FailureCause | 'stopped' },
  ): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    const outcome = ending as Outcome;
    outcome.latencyMs = performance.now() - current.request.dueAt;
    if (!outcome.ok) outcome.connectionFailed = !this.connected;
    current.request.done(outcome);
  }
}

/** Keep-alive connections, reused most recently used first, opened as needed up to a limit. */
class KeepAlivePool implements Transport {
  private readonly idleStack: PooledConnection[] = [];
  private readonly all = new Set<PooledConnection>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly target: { host: string; port: number; tls?: TlsSettings | null },
    private readonly maxConnections: number,
    private readonly check: ResponseCheck,
    private readonly onFree: () => void,
    private readonly schedule: ScheduleSink,
  ) {
    // Idle connections past their limit are closed by the client, before the server closes them under a request.
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const connection of this.idleStack)
        if (now - connection.idleSince >= connection.idleLimitMs) connection.abort('stopped');
    }, 250);
  }

  send(request: Sent): boolean {
    let connection: PooledConnection | undefined;
    while ((connection = this.idleStack.pop()) && connection.retired);
    if (!connection) {
      if (this.all.size >= this.maxConnections) return false;
      connection = new PooledConnection(this.target, this.check, this);
      this.all.add(connection);
      this.schedule.connections(this.all.size);
    }
    connection.send(request);
    return true;
  }

  *inFlight(): Iterable<InFlight> {
    for (const connection of this.all) if (connection.busy) yield connection;
  }

  /** A connection finished its request and may take another. */
  idle(connection: PooledConnection): void {
    connection.idleSince = performance.now();
    this.idleStack.push(connection);
    this.onFree();
  }

  /** A connection's socket closed. */
  closed(connection: PooledConnection): void {
    this.all.delete(connection);
    const at = this.idleStack.indexOf(connection);
    if (at >= 0) this.idleStack.splice(at, 1);
    this.onFree();
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const connection of [...this.all]) connection.abort('stopped');
  }
}

/** A new connection per request, at most `maxConnections` open at once. */
class FreshConnections implements Transport {
  private readonly open = new Set<Exchange>();
  /** Parsers of closed connections, for the next ones: one per request was a tenth of the churn load's CPU. */
  private readonly parsers: ResponseParser[] = [];

  constructor(
    private readonly target: { host: string; port: number; tls?: TlsSettings | null },
    private readonly maxConnections: number,
    private readonly check: ResponseCheck,
    private readonly onFree: () => void,
    private readonly schedule: ScheduleSink,
  ) {}

  send(request: Sent): boolean {
    if (this.open.size >= this.maxConnections) return false;
    const parser = this.parsers.pop() ?? new ResponseParser();
    // The parser is handed back once the socket is closed: no read can reach it after that.
    const exchange: Exchange = new Exchange(
      this.target,
      request.bytes,
      this.check,
      parser,
      request.done,
      () => {
        this.open.delete(exchange);
        this.parsers.push(parser);
        this.onFree();
      },
      request.dueAt,
    );
    this.open.add(exchange);
    this.schedule.connections(this.open.size);
    return true;
  }

  inFlight(): Iterable<InFlight> {
    return this.open;
  }

  close(): void {
    for (const exchange of [...this.open]) exchange.abort('stopped');
  }
}

/**
 * Starts an open load. Each request falls due on the schedule and ends in
 * `sink` exactly once: answered, failed with a cause, or unanswered at stop
 * (with its age from when it fell due); `schedule` learns when each fell
 * due, whether it was sent late or had to wait for a connection, and
 * whether it was answered.
 */
export function startOpenLoad(options: OpenLoadOptions, sink: LoadSink, schedule: ScheduleSink): RunningLoad {
  const kinds = options.mix?.kinds ?? [plainGet(options.path ?? '/')];
  const keepAlive = options.mode === 'keepalive';
  const bytes = kinds.map((kind) => requestBytes(kind, options.host, options.port, !keepAlive));
  const sinks = kinds.map((_, kind) => options.mix?.sinkOf(kind) ?? sink);
  const order = weightedOrder(kinds.map((k) => k.weight));
  const check = options.check ?? checkOurServer;
  const timeoutMs = options.timeoutSeconds * 1000;
  const target = { host: options.host, port: options.port, tls: options.tls };

  const fullSpeed = typeof options.ratePerSecond === 'number' ? undefined : options.ratePerSecond.concurrency;

  /** Requests due and not yet sent, oldest first, from `head` on: each as two numbers, its number and when it fell due. */
  let waiting: number[] = [];
  let head = 0;
  let stopping = false;
  let outstanding = 0;
  let next = 0;
  let settled: () => void = () => {};

  const kindOf = (seq: number) => order[seq % order.length]!;
  const request = (seq: number, dueAt: number): Sent => {
    const kind = kindOf(seq);
    return {
      seq,
      dueAt,
      kind: kinds[kind]!,
      bytes: bytes[kind]!,
      done: (outcome) => {
        outstanding--;
        // Filed on the clock the latency was timed on, so that `at - latency` is exactly when the request fell due.
        record(sinks[kind]!, outcome, true, epochOf(performance.now()));
        if (outcome.ok) schedule.answered(epochOf(dueAt));
        if (stopping && outstanding === 0) settled();
        // At full speed the next request goes once this one's connection is free again (after the caller's own
        // bookkeeping), or a moment later when it could not connect: never a storm against a closed port.
        if (fullSpeed !== undefined && !stopping) {
          if (!outcome.ok && outcome.connectionFailed)
            setTimeout(() => due(next++, performance.now()), RECONNECT_DELAY_MS);
          else queueMicrotask(() => due(next++, performance.now()));
        }
      },
    };
  };
  /** The oldest waiting request leaves the queue: its wait is over, whether it is sent or given up on. */
  const dequeue = (now = performance.now()): Sent => {
    const sent = request(waiting[head]!, waiting[head + 1]!);
    head += 2;
    schedule.waitOver(epochOf(sent.dueAt), now - sent.dueAt);
    return sent;
  };
  /** A connection is free: the requests waiting go out, oldest first, while connections last. */
  const pump = () => {
    while (head < waiting.length && !stopping) {
      const dueAt = waiting[head + 1]!;
      if (!transport.send(request(waiting[head]!, dueAt))) break;
      head += 2;
      schedule.waitOver(epochOf(dueAt), performance.now() - dueAt);
    }
    if (head > 2048 && head * 2 > waiting.length) {
      waiting = waiting.slice(head);
      head = 0;
    }
  };
  /** Request `seq` falls due at `dueAt` (performance.now() ms): sent at once if a connection is free, else it waits its turn. */
  const due = (seq: number, dueAt: number) => {
    if (stopping) return;
    sinks[kindOf(seq)]!.written();
    outstanding++;
    schedule.due(epochOf(dueAt), performance.now() - dueAt);
    // First in, first out: a request due now waits behind those already waiting.
    if (head < waiting.length || !transport.send(request(seq, dueAt))) {
      waiting.push(seq, dueAt);
      schedule.waited(epochOf(dueAt));
    }
  };
  const maxConnections = fullSpeed ?? options.maxConnections;
  const http2 = options.http2;
  const transport: Transport = http2
    ? new Http2Transport(
        { ...target, ...http2, check },
        maxConnections,
        keepAlive ? STREAMS_PER_SESSION : 1,
        pump,
        (open) => schedule.connections(open),
      )
    : keepAlive
      ? new KeepAlivePool(target, maxConnections, check, pump, schedule)
      : new FreshConnections(target, maxConnections, check, pump, schedule);

  const startedAt = performance.now();
  const hardStop = setTimeout(() => void stop(), options.maxSeconds * 1000);
  const arrivals =
    typeof options.ratePerSecond === 'number' ? new Arrivals(options.ratePerSecond, due, startedAt) : undefined;

  /** Ends waiting requests older than the timeout, and requests in flight that old. One sweep for the load, not a timer each. */
  const sweeper = setInterval(
    () => {
      const now = performance.now();
      while (head < waiting.length && now - waiting[head + 1]! >= timeoutMs) {
        const expired = dequeue(now);
        expired.done({ ok: false, cause: 'timeout', connectionFailed: true, latencyMs: now - expired.dueAt });
      }
      for (const inFlight of [...transport.inFlight()])
        if (now - inFlight.startedAt >= timeoutMs) inFlight.abort('timeout');
    },
    Math.min(250, timeoutMs / 4),
  );

  if (arrivals) arrivals.start();
  else for (let i = 0; i < fullSpeed!; i++) due(next++, startedAt);

  let stopped: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopped ??= (async () => {
      stopping = true;
      clearTimeout(hardStop);
      arrivals?.stop();
      // Due but never sent: unanswered at stop, aged from when they fell due.
      const now = performance.now();
      while (head < waiting.length) {
        const unsent = dequeue(now);
        unsent.done({ ok: false, cause: 'stopped', connectionFailed: true, latencyMs: now - unsent.dueAt });
      }
      // Requests in flight get the settle time to finish; then they are given up on, and counted.
      if (outstanding > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.settleMs);
          settled = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      clearInterval(sweeper);
      transport.close();
    })();
    return stopped;
  }
  return { stop };
}
