// Runs one of the harness's own load clients alone for a while and prints
// what it achieved as one JSON line: how fast the harness can load a server,
// with per-response identity capture on or off, and its own memory.
// Usage: node load-probe.js keepalive|churn URL CONNECTIONS SECONDS on|off
import { startChurnLoad } from '../load/churn-load.js';
import { startKeepAliveLoad } from '../load/keepalive-load.js';
import { Recorder } from '../load/recorder.js';
import { checkOurServer, type ResponseCheck } from '../load/response-check.js';

const [mode, url, connectionsText, secondsText, identity] = process.argv.slice(2);
const connections = Number(connectionsText);
const seconds = Number(secondsText);
// Off: any 2xx counts, and nothing of the response is read or parsed.
const check: ResponseCheck = identity === 'off' ? (status) => (status >= 200 && status < 300 ? { ok: true, pid: 0, version: '' } : { ok: false, cause: 'non_2xx' }) : checkOurServer;
const recorder = new Recorder(1000, 10_000, Date.now());
const common = { maxSeconds: seconds + 30, timeoutSeconds: 10, settleMs: 1000, check };
const target = new URL(url!);
const load =
  mode === 'churn'
    ? startChurnLoad({ ...common, host: target.hostname, port: Number(target.port), concurrency: connections }, recorder)
    : startKeepAliveLoad({ ...common, url: url!, connections }, recorder);
const started = Date.now();
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 200);
setTimeout(async () => {
  const elapsed = (Date.now() - started) / 1000;
  const { answered, failed } = recorder.totals();
  clearInterval(sampler);
  await load.stop();
  process.stdout.write(`${JSON.stringify({ answered, failed, seconds: elapsed, perSecond: answered / elapsed, peakRssKiB: Math.round(peakRss / 1024) })}\n`);
  process.exit(0);
}, seconds * 1000);
