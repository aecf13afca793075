// Fresh-connection load: every request on a new TCP connection, the way a
// stream of separate clients hits a server. Node's http client with no agent
// is compliant by construction (it sends `Connection: close` and reads the
// whole response), so nothing here needs adapting and nothing is retried.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECONNECT_DELAY_MS } from './compliant-client.js';
import type { RunningLoad } from './keepalive-load.js';
import { causeOfError, type FailureCause, type Recorder } from './recorder.js';
import { type Checked, checkResponse } from './response-check.js';

export interface ChurnOptions {
  host: string;
  port: number;
  /** Requests in flight at once (one connection each). */
  concurrency: number;
  /** Hard upper bound; normally stopped earlier with stop(). */
  maxSeconds: number;
  timeoutSeconds: number;
}

/** How one request ended. */
export type Outcome = ({ ok: true; pid: number } | { ok: false; cause: FailureCause; connectionFailed: boolean }) & { latencyMs: number };

/** Sends one GET on a new connection and reports how it ended. Never rejects. */
export function requestOnce(target: { host: string; port: number; timeoutSeconds: number }, path = '/'): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const settle = (outcome: Checked, connectionFailed = false) => {
      if (settled) return;
      settled = true;
      const latencyMs = performance.now() - started;
      resolve(outcome.ok ? { ...outcome, latencyMs } : { ...outcome, connectionFailed, latencyMs });
    };
    const req = http.get({ host: target.host, port: target.port, path, agent: false, timeout: target.timeoutSeconds * 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const pidHeader = res.headers['x-server-pid'];
        settle(checkResponse(res.statusCode ?? 0, Array.isArray(pidHeader) ? pidHeader[0] : pidHeader, body));
      });
      res.on('error', (error) => settle({ ok: false, cause: causeOfError(error) }));
    });
    req.on('timeout', () => {
      settle({ ok: false, cause: 'timeout' });
      req.destroy();
    });
    req.on('error', (error) => settle({ ok: false, cause: causeOfError(error) }, true));
  });
}

/** Accounts for one outcome in the recorder. */
export function record(recorder: Recorder, outcome: Outcome): void {
  if (outcome.ok) recorder.answer(outcome.pid, outcome.latencyMs);
  else recorder.fail(outcome.cause);
}

/** Starts `concurrency` request loops; each sends its next request when the last one is accounted for. */
export function startChurnLoad(options: ChurnOptions, recorder: Recorder): RunningLoad {
  let stopping = false;
  const deadline = Date.now() + options.maxSeconds * 1000;
  const loop = async () => {
    while (!stopping && Date.now() < deadline) {
      // Like any real client, do not hammer a closed port.
      const outcome = await requestOnce(options);
      record(recorder, outcome);
      if (!outcome.ok && outcome.connectionFailed) await sleep(RECONNECT_DELAY_MS);
    }
  };
  const loops = Array.from({ length: options.concurrency }, loop);
  return {
    async stop() {
      stopping = true;
      // Requests in flight finish (bounded by their timeout) and are counted.
      await Promise.all(loops);
      return { inFlightAtStop: 0 };
    },
  };
}
