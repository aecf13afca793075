// Fresh-connection load: every request on a new TCP connection, the way a
// stream of separate clients hits a server. Each request is a raw socket that
// writes one prebuilt `GET ... Connection: close` and reads the response
// through http-parser-js (the parser autocannon uses): about three times the
// rate of Node's http client with no agent, whose request object, agent
// bookkeeping and parser per request made it the limit of this load
// (BENCHMARKS.md, "Harness ceiling"). Nothing is retried; a response is
// judged whole, body included.
import { setMaxListeners } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HTTPParser } from 'http-parser-js';
import { RECONNECT_DELAY_MS } from './compliant-client.js';
import type { RunningLoad } from './keepalive-load.js';
import { causeOfError, type FailureCause, type LoadSink } from './recorder.js';
import { type Checked, checkOurServer, type ResponseCheck } from './response-check.js';

export interface ChurnOptions {
  host: string;
  port: number;
  /** Requests in flight at once (one connection each). */
  concurrency: number;
  /** Hard upper bound; normally stopped earlier with stop(). */
  maxSeconds: number;
  timeoutSeconds: number;
  /** How long stop() waits for requests in flight before giving up on them. */
  settleMs: number;
  /** The path each request asks for (default: /). */
  path?: string;
  /** How a response is judged (default: our server's own body and headers). */
  check?: ResponseCheck;
}

/** How one request ended. `stopped`: still unanswered when the load stopped. */
export type Outcome = ({ ok: true; pid: number; version: string } | { ok: false; cause: FailureCause | 'stopped'; connectionFailed: boolean }) & { latencyMs: number };

/** What a new connection writes: one GET that asks the server to close after answering. */
export function requestBytes(host: string, port: number, path: string): Buffer {
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`, 'latin1');
}

/**
 * Every socket reads into this one buffer: its bytes are parsed (and the
 * body copied out) in the read callback, before the next read can reuse it.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Sends one GET on a new connection and reports how it ended. Never
 * rejects; `signal` gives up on it. A connection the server closes without
 * a response is a `silent_loss`, one closed in the middle of it a
 * `corrupt_body`, one reset a `connection_reset`.
 */
export function requestOnce(
  target: { host: string; port: number; timeoutSeconds: number },
  path = '/',
  signal?: AbortSignal,
  check: ResponseCheck = checkOurServer,
  bytes: Buffer = requestBytes(target.host, target.port, path),
): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    let connected = false;
    let received = 0;
    const settle = (outcome: Checked | { ok: false; cause: FailureCause | 'stopped' }) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', stop);
      socket.destroy();
      const latencyMs = performance.now() - started;
      resolve(outcome.ok ? { ...outcome, latencyMs } : { ...outcome, connectionFailed: !connected, latencyMs });
    };

    const parser = new HTTPParser(HTTPParser.RESPONSE);
    let status = 0;
    let headers: string[] = [];
    const body: Buffer[] = [];
    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      status = info.statusCode;
      headers = info.headers;
    };
    parser[HTTPParser.kOnBody] = (chunk, offset, length) => void body.push(Buffer.from(chunk.subarray(offset, offset + length)));
    parser[HTTPParser.kOnMessageComplete] = () => {
      const header = (name: string) => {
        for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return headers[i + 1];
        return undefined;
      };
      settle(check(status, header, Buffer.concat(body).toString('utf8')));
    };

    const socket = net.connect({
      host: target.host,
      port: target.port,
      onread: {
        buffer: READ_BUFFER,
        callback: (length) => {
          received += length;
          if (settled) return false;
          const parsed = parser.execute(READ_BUFFER, 0, length);
          if (parsed instanceof Error) settle({ ok: false, cause: 'corrupt_body' });
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    socket.setTimeout(target.timeoutSeconds * 1000);
    socket.write(bytes);
    socket.on('connect', () => (connected = true));
    // The server's FIN: a body that runs until the close ends here, anything else came up short.
    socket.on('end', () => {
      if (settled) return;
      const finished = parser.finish();
      if (!settled) settle({ ok: false, cause: finished instanceof Error || received > 0 ? 'corrupt_body' : 'silent_loss' });
    });
    socket.on('timeout', () => settle({ ok: false, cause: 'timeout' }));
    socket.on('error', (error) => settle({ ok: false, cause: causeOfError(error) }));
    const stop = () => settle({ ok: false, cause: 'stopped' });
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** Accounts for one outcome of a written request; `judged` false exempts a deliberately long one from the latency budget. */
export function record(sink: LoadSink, outcome: Outcome, judged = true): void {
  if (outcome.ok) sink.answer(outcome.pid, outcome.version, outcome.latencyMs, undefined, judged);
  else if (outcome.cause === 'stopped') sink.stoppedWith([outcome.latencyMs]);
  else sink.fail(outcome.cause);
}

/** Starts `concurrency` request loops; each sends its next request when the last one is accounted for. */
export function startChurnLoad(options: ChurnOptions, sink: LoadSink): RunningLoad {
  let stopping = false;
  const giveUp = new AbortController();
  // One listener per request in flight: as many as the concurrency, on purpose.
  setMaxListeners(options.concurrency + 10, giveUp.signal);
  const deadline = Date.now() + options.maxSeconds * 1000;
  const path = options.path ?? '/';
  const bytes = requestBytes(options.host, options.port, path);
  const loop = async () => {
    while (!stopping && Date.now() < deadline) {
      sink.written();
      const outcome = await requestOnce(options, path, giveUp.signal, options.check, bytes);
      record(sink, outcome);
      // Like any real client, do not hammer a closed port.
      if (!outcome.ok && outcome.connectionFailed) await sleep(RECONNECT_DELAY_MS);
    }
  };
  const loops = Promise.all(Array.from({ length: options.concurrency }, loop));
  return {
    async stop() {
      stopping = true;
      // Requests in flight get the settle time to finish; then they are given up on, and counted.
      const timer = setTimeout(() => giveUp.abort(), options.settleMs);
      await loops;
      clearTimeout(timer);
    },
  };
}
