// One GET on an agent's connection, as an Outcome. A request the server had
// (written on a connection, nothing or part of the answer back) whose
// connection then ends is `cut_in_flight`: the server dropped work it had
// accepted, which is what a shutdown that does not drain does. Before the
// request is written, a failure is the connection's (refused, reset).
import type http from 'node:http';
import { causeOfError, type Outcome } from './recorder.js';
import type { ResponseCheck } from './response-check.js';
import { getFor, type TlsSettings } from './tls.js';

export interface GetTarget {
  host: string;
  port: number;
  /** HTTPS; `agent` must then be an https.Agent (tls.ts, agentFor). */
  tls?: TlsSettings | null;
}

export function getOnce(
  agent: http.Agent,
  target: GetTarget,
  path: string,
  timeoutMs: number,
  check: ResponseCheck,
  onWritten?: () => void,
): Promise<Outcome> {
  const started = performance.now();
  const latency = () => performance.now() - started;
  let written = false;
  const broken = (error: unknown): Outcome => {
    const cause = causeOfError(error);
    return {
      ok: false,
      cause: written && cause !== 'timeout' ? 'cut_in_flight' : cause,
      connectionFailed: !written,
      latencyMs: latency(),
    };
  };
  return new Promise((resolve) => {
    const request = getFor(target.tls)(
      { host: target.host, port: target.port, path, agent, timeout: timeoutMs },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          const header = (name: string) => {
            const value = response.headers[name];
            return Array.isArray(value) ? value[0] : value;
          };
          const checked = check(response.statusCode ?? 0, header, body);
          resolve(
            checked.ok
              ? { ...checked, latencyMs: latency() }
              : { ok: false, cause: checked.cause, connectionFailed: false, latencyMs: latency() },
          );
        });
        // An answer cut short never ends: Node says 'aborted' here.
        response.on('error', (error) => resolve(broken(error)));
      },
    );
    // 'finish': the request is handed to the socket, which a server accepted.
    request.on('finish', () => {
      written = true;
      onWritten?.();
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => resolve(broken(error)));
  });
}
