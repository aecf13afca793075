// Keep-alive load: autocannon with long-lived connections, made compliant
// (compliant-client.ts), every request accounted for in a LoadSink.
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { type AutocannonClient, makeCompliant } from './compliant-client.js';
import { type Checked, checkOurServer, type ResponseCheck } from './response-check.js';
import { causeOfError, type LoadSink } from './recorder.js';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Hard upper bound; the run is normally stopped earlier with stop(). */
  maxSeconds: number;
  /** Per-request timeout, seconds. */
  timeoutSeconds: number;
  /** How long stop() waits for requests in flight before giving up on them. */
  settleMs: number;
  /** How a response is judged (default: our server's own body and headers). */
  check?: ResponseCheck;
}

export interface RunningLoad {
  /** Stops sending, waits up to the settle time for requests in flight, and closes the clients. */
  stop(): Promise<void>;
}

/** Timers fire a little late or early; a request this close to the timeout timed out. */
const TIMER_SLACK_MS = 50;

function header(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * Starts autocannon against `url`. Each request written ends in the sink
 * exactly once: answered, failed with a cause, or in flight at stop.
 *
 * autocannon writes one request at a time per connection and emits `request`
 * for each. When it writes the next one while the previous is unanswered,
 * that one was lost: by a timeout if it was as old as the timeout (on a
 * timeout autocannon reconnects and writes the next request *before* it emits
 * `timeout`), silently otherwise (a server's FIN; autocannon counts it
 * nowhere).
 */
export function startKeepAliveLoad(load: LoadOptions, sink: LoadSink): RunningLoad {
  const timeoutMs = load.timeoutSeconds * 1000;
  const check = load.check ?? checkOurServer;
  const url = new URL(load.url);
  let halted = false;
  // autocannon calls onResponse and then, synchronously, emits 'response' on
  // the same client: the check made in the first is read in the second.
  let lastChecked: Checked | undefined;
  /** Per connection: when its unanswered request was written. */
  const outstanding = new Map<AutocannonClient, number>();

  const account = (raw: unknown) => {
    const client = raw as AutocannonClient;
    makeCompliant(client, () => halted);
    const settle = () => outstanding.delete(client);
    const timedOut = () => Date.now() - (outstanding.get(client) ?? Infinity) >= timeoutMs - TIMER_SLACK_MS;
    client.on('request', () => {
      if (outstanding.has(client)) sink.fail(timedOut() ? 'timeout' : 'silent_loss');
      outstanding.set(client, Date.now());
      sink.written();
    });
    client.on('response', (_status: number, _bytes: number, durationMs: number) => {
      settle();
      const checked = lastChecked;
      lastChecked = undefined;
      if (checked?.ok) sink.answer(checked.pid, checked.version, durationMs);
      else sink.fail(checked?.cause ?? 'corrupt_body');
    });
    client.on('connError', (error: Error) => {
      if (outstanding.has(client) && settle()) sink.fail(causeOfError(error));
    });
    client.on('timeout', () => {
      // Only if the 'request' of the reconnect has not accounted for it already.
      if (outstanding.has(client) && timedOut() && settle()) sink.fail('timeout');
    });
    client.on('done', () => {
      const since = outstanding.get(client);
      if (since !== undefined && settle()) sink.stoppedWith([Date.now() - since]);
    });
  };

  const options = {
    url: url.origin,
    connections: load.connections,
    pipelining: 1,
    duration: load.maxSeconds,
    timeout: load.timeoutSeconds,
    requests: [
      {
        method: 'GET',
        path: url.pathname + url.search,
        onResponse: (status: number, body: string, _context: unknown, headers: Record<string, string | string[]>) => {
          lastChecked = check(status, (name) => header(headers, name), body);
        },
      },
    ],
    setupClient: account,
  } as autocannon.Options;
  let onFinished!: () => void;
  const finished = new Promise<void>((resolve) => (onFinished = resolve));
  const instance = autocannon(options, () => onFinished());

  return {
    async stop() {
      halted = true;
      const deadline = Date.now() + load.settleMs;
      while (outstanding.size > 0 && Date.now() < deadline) await sleep(10);
      instance.stop();
      await finished;
    },
  };
}
