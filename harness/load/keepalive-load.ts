// Keep-alive load: autocannon with long-lived connections, made compliant
// (compliant-client.ts), every request accounted for in a LoadSink.
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { type AutocannonClient, makeCompliant } from './compliant-client.js';
import { type Checked, checkOurServer, type ResponseCheck } from './response-check.js';
import { causeOfError, type LoadSink } from './recorder.js';
import { plainGet, type RequestMix, weightedOrder } from './request-mix.js';

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
  /** The kinds of request to send instead of GET on the url's path, each outcome to its kind's sink. */
  mix?: RequestMix;
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
 * autocannon writes one request at a time per connection, taking its bytes
 * from getRequestBuffer() just before the write: that is where a request is
 * counted, and where the mix's kind it belongs to is known (the iterator's
 * index into the requests). When it writes the next one while the previous
 * is unanswered, that one was lost: by a timeout if it was as old as the
 * timeout (on a timeout autocannon reconnects and writes the next request
 * *before* it emits `timeout`), silently otherwise (a server's FIN;
 * autocannon counts it nowhere).
 */
export function startKeepAliveLoad(load: LoadOptions, sink: LoadSink): RunningLoad {
  const timeoutMs = load.timeoutSeconds * 1000;
  const check = load.check ?? checkOurServer;
  const url = new URL(load.url);
  const kinds = load.mix?.kinds ?? [plainGet(url.pathname + url.search)];
  const sinks = kinds.map((_, kind) => load.mix?.sinkOf(kind) ?? sink);
  // autocannon cycles through its requests: one per place in the order.
  const order = weightedOrder(kinds.map((k) => k.weight));
  let halted = false;
  // autocannon calls onResponse and then, synchronously, emits 'response' on
  // the same client: the check made in the first is read in the second.
  let lastChecked: Checked | undefined;
  /** Per connection: its unanswered request, when it was written and the sink of its kind. */
  const outstanding = new Map<AutocannonClient, { since: number; sink: LoadSink }>();

  const account = (raw: unknown) => {
    const client = raw as AutocannonClient;
    makeCompliant(client, () => halted);
    /** Forgets the client's unanswered request and returns its sink, if it had one. */
    const settle = () => {
      const request = outstanding.get(client);
      outstanding.delete(client);
      return request?.sink;
    };
    const timedOut = () => Date.now() - (outstanding.get(client)?.since ?? Infinity) >= timeoutMs - TIMER_SLACK_MS;
    const requestBuffer = client.getRequestBuffer;
    client.getRequestBuffer = function (this: AutocannonClient) {
      if (outstanding.has(client)) outstanding.get(client)!.sink.fail(timedOut() ? 'timeout' : 'silent_loss');
      const kindSink = sinks[order[this.requestIterator.currentRequestIndex]!]!;
      outstanding.set(client, { since: Date.now(), sink: kindSink });
      kindSink.written();
      return requestBuffer.call(this);
    };
    client.on('response', (_status: number, _bytes: number, durationMs: number) => {
      const kindSink = settle() ?? sink;
      const checked = lastChecked;
      lastChecked = undefined;
      if (checked?.ok) kindSink.answer(checked.pid, checked.version, durationMs);
      else kindSink.fail(checked?.cause ?? 'corrupt_body');
    });
    client.on('connError', (error: Error) => {
      settle()?.fail(causeOfError(error));
    });
    client.on('timeout', () => {
      // Only if the write of the reconnect has not accounted for it already.
      if (timedOut()) settle()?.fail('timeout');
    });
    client.on('done', () => {
      const since = outstanding.get(client)?.since;
      if (since !== undefined) settle()?.stoppedWith([Date.now() - since]);
    });
  };

  const options = {
    url: url.origin,
    connections: load.connections,
    pipelining: 1,
    duration: load.maxSeconds,
    timeout: load.timeoutSeconds,
    requests: order.map((index) => {
      const kind = kinds[index]!;
      return {
        method: kind.method,
        path: kind.path,
        headers: kind.headers,
        ...(kind.body ? { body: kind.body } : {}),
        onResponse: (status: number, body: string, _context: unknown, headers: Record<string, string | string[]>) => {
          lastChecked = check(status, (name) => header(headers, name), body);
        },
      };
    }),
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
