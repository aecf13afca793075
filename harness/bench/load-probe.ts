// Runs one of the harness's own load clients alone for a while and prints
// what it achieved as one JSON line: how fast the harness can load a server,
// with per-response identity capture on or off, and its own memory.
// `churn-node-http` is the new-connection client the harness had before
// (Node's http with no agent), kept here as the reference it is measured
// against.
// Usage: node load-probe.js keepalive|churn|churn-node-http URL CONNECTIONS SECONDS on|off
import http from 'node:http';
import { startChurnLoad } from '../load/churn-load.js';
import { type Outcome, record } from '../load/recorder.js';
import type { RunningLoad } from '../load/keepalive-load.js';
import { startKeepAliveLoad } from '../load/keepalive-load.js';
import { Recorder } from '../load/recorder.js';
import { checkOurServer, type ResponseCheck } from '../load/response-check.js';

const [mode, url, connectionsText, secondsText, identity] = process.argv.slice(2);
const connections = Number(connectionsText);
const seconds = Number(secondsText);
// Off: any 2xx counts, and nothing of the response is read or parsed.
const check: ResponseCheck =
  identity === 'off'
    ? (status) => (status >= 200 && status < 300 ? { ok: true, pid: 0, version: '' } : { ok: false, cause: 'non_2xx' })
    : checkOurServer;
// Throughput only: no latency budget, and no tail worth keeping below 10 s.
const recorder = new Recorder(1000, 10_000, Date.now());
const common = { maxSeconds: seconds + 30, timeoutSeconds: 10, settleMs: 1000, check };
const target = new URL(url!);
const load =
  mode === 'churn-node-http'
    ? nodeHttpChurn(new URL(url!), connections, recorder)
    : mode === 'churn'
      ? startChurnLoad(
          { ...common, host: target.hostname, port: Number(target.port), concurrency: connections },
          recorder,
        )
      : startKeepAliveLoad({ ...common, url: url!, connections }, recorder);
const started = Date.now();
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 200);
setTimeout(async () => {
  const elapsed = (Date.now() - started) / 1000;
  const { answered, failed } = recorder.totals();
  clearInterval(sampler);
  await load.stop();
  process.stdout.write(
    `${JSON.stringify({ answered, failed, seconds: elapsed, perSecond: answered / elapsed, peakRssKiB: Math.round(peakRss / 1024) })}\n`,
  );
  process.exit(0);
}, seconds * 1000);

/** The reference: Node's http client, no agent, one request per connection, every body checked. */
function nodeHttpChurn(target: URL, count: number, sink: Recorder): RunningLoad {
  let stopping = false;
  const once = () =>
    new Promise<Outcome>((resolve) => {
      const started = performance.now();
      const req = http.get({ host: target.hostname, port: Number(target.port), path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const checked = check(res.statusCode ?? 0, (name) => [res.headers[name]].flat()[0], body);
          const latencyMs = performance.now() - started;
          resolve(checked.ok ? { ...checked, latencyMs } : { ...checked, connectionFailed: false, latencyMs });
        });
      });
      req.on('error', () =>
        resolve({ ok: false, cause: 'other_error', connectionFailed: true, latencyMs: performance.now() - started }),
      );
    });
  const loop = async () => {
    while (!stopping) {
      sink.written();
      record(sink, await once());
    }
  };
  const loops = Promise.all(Array.from({ length: count }, loop));
  return {
    async stop() {
      stopping = true;
      await loops;
    },
  };
}
