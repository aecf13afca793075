// Keep-alive load: autocannon with long-lived connections, made compliant
// (compliant-client.ts), every request accounted for in a Recorder.
import autocannon from 'autocannon';
import { type AutocannonClient, makeCompliant } from './compliant-client.js';
import { type Checked, checkResponse } from './response-check.js';
import { causeOfError, type Recorder } from './recorder.js';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Hard upper bound; the run is normally stopped earlier with stop(). */
  maxSeconds: number;
  /** Per-request timeout, seconds. */
  timeoutSeconds: number;
}

export interface RunningLoad {
  /** Stops sending, waits for the clients to close, and returns how many requests were still in flight then. */
  stop(): Promise<{ inFlightAtStop: number }>;
}

function header(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * Starts autocannon against `url`. Each request ends in the recorder exactly
 * once: answered, failed with a cause, or (only at stop) in flight. A request
 * that was written and then neither answered nor failed before the client
 * wrote the next one was lost silently (autocannon itself counts it nowhere).
 */
export function startKeepAliveLoad(load: LoadOptions, recorder: Recorder): RunningLoad {
  let inFlightAtStop = 0;
  // autocannon calls onResponse and then, synchronously, emits 'response' on
  // the same client: the check made in the first is read in the second.
  let lastChecked: Checked | undefined;

  /** Per connection: accounts for each request exactly once (see above). */
  const account = (raw: unknown) => {
    const client = raw as AutocannonClient;
    makeCompliant(client);
    let outstanding = false;
    client.on('request', () => {
      if (outstanding) recorder.fail('silent_loss');
      outstanding = true;
    });
    client.on('response', (_status: number, _bytes: number, durationMs: number) => {
      outstanding = false;
      const checked = lastChecked;
      lastChecked = undefined;
      if (checked?.ok) recorder.answer(checked.pid, durationMs);
      else recorder.fail(checked?.cause ?? 'corrupt_body');
    });
    client.on('connError', (error: Error) => {
      if (!outstanding) return;
      outstanding = false;
      recorder.fail(causeOfError(error));
    });
    client.on('timeout', () => {
      if (!outstanding) return;
      outstanding = false;
      recorder.fail('timeout');
    });
    client.on('done', () => {
      if (outstanding) inFlightAtStop++;
      outstanding = false;
    });
  };

  const options = {
    url: load.url,
    connections: load.connections,
    pipelining: 1,
    duration: load.maxSeconds,
    timeout: load.timeoutSeconds,
    requests: [
      {
        method: 'GET',
        path: '/',
        onResponse: (status: number, body: string, _context: unknown, headers: Record<string, string | string[]>) => {
          lastChecked = checkResponse(status, header(headers, 'x-server-pid'), body);
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
      instance.stop();
      await finished;
      return { inFlightAtStop };
    },
  };
}
