// Fresh-connection load: every request on a new TCP connection, the way a
// stream of separate clients hits a server. Node's http client with no agent
// is compliant by construction (it sends `Connection: close` and reads the
// whole response), so nothing here needs adapting and nothing is retried.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECONNECT_DELAY_MS } from './compliant-client.js';
import type { RunningLoad } from './keepalive-load.js';
import { causeOfError, type Recorder } from './recorder.js';
import { checkResponse } from './response-check.js';

export interface ChurnOptions {
  host: string;
  port: number;
  /** Requests in flight at once (one connection each). */
  concurrency: number;
  /** Hard upper bound; normally stopped earlier with stop(). */
  maxSeconds: number;
  timeoutSeconds: number;
}

/**
 * Sends one GET / on a new connection; resolves, once it is accounted for in
 * the recorder, with whether the connection itself failed.
 */
function oneRequest(options: ChurnOptions, recorder: Recorder): Promise<boolean> {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const settle = (record: () => void, connectionFailed = false) => {
      if (settled) return;
      settled = true;
      record();
      resolve(connectionFailed);
    };
    const req = http.get({ host: options.host, port: options.port, path: '/', agent: false, timeout: options.timeoutSeconds * 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        settle(() => {
          const pidHeader = res.headers['x-server-pid'];
          const checked = checkResponse(res.statusCode ?? 0, Array.isArray(pidHeader) ? pidHeader[0] : pidHeader, body);
          if (checked.ok) recorder.answer(checked.pid, performance.now() - started);
          else recorder.fail(checked.cause);
        }),
      );
      res.on('error', (error) => settle(() => recorder.fail(causeOfError(error))));
    });
    req.on('timeout', () => {
      settle(() => recorder.fail('timeout'));
      req.destroy();
    });
    req.on('error', (error) => settle(() => recorder.fail(causeOfError(error)), true));
  });
}

/** Starts `concurrency` request loops; each sends its next request when the last one is accounted for. */
export function startChurnLoad(options: ChurnOptions, recorder: Recorder): RunningLoad {
  let stopping = false;
  const deadline = Date.now() + options.maxSeconds * 1000;
  const loop = async () => {
    while (!stopping && Date.now() < deadline) {
      // Like any real client, do not hammer a closed port.
      if (await oneRequest(options, recorder)) await sleep(RECONNECT_DELAY_MS);
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
