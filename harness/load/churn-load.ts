// Fresh-connection load: every request on a new TCP connection, the way a
// stream of separate clients hits a server. Node's http client with no agent
// is compliant by construction (it sends `Connection: close` and reads the
// whole response), so nothing here needs adapting and nothing is retried.
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
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

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** Sends one GET on a new connection and reports how it ended. Never rejects; `signal` gives up on it. */
export function requestOnce(target: { host: string; port: number; timeoutSeconds: number }, path = '/', signal?: AbortSignal, check: ResponseCheck = checkOurServer): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const settle = (outcome: Checked | { ok: false; cause: 'stopped' }, connectionFailed = false) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', stop);
      const latencyMs = performance.now() - started;
      resolve(outcome.ok ? { ...outcome, latencyMs } : { ...outcome, connectionFailed, latencyMs });
    };
    const req = http.get({ host: target.host, port: target.port, path, agent: false, timeout: target.timeoutSeconds * 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => settle(check(res.statusCode ?? 0, (name) => single(res.headers[name]), body)));
      res.on('error', (error) => settle({ ok: false, cause: causeOfError(error) }));
    });
    const stop = () => {
      settle({ ok: false, cause: 'stopped' });
      req.destroy();
    };
    signal?.addEventListener('abort', stop, { once: true });
    req.on('timeout', () => {
      settle({ ok: false, cause: 'timeout' });
      req.destroy();
    });
    req.on('error', (error) => settle({ ok: false, cause: causeOfError(error) }, true));
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
  const loop = async () => {
    while (!stopping && Date.now() < deadline) {
      sink.written();
      const outcome = await requestOnce(options, options.path ?? '/', giveUp.signal, options.check);
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
