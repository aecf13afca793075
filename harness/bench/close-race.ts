// What a listener's close loses: servers restarted back to back (start the
// next, wait for its ready line, SIGTERM the old, wait for its exit) under
// wrk with a new connection per request, counting wrk's socket errors and
// the responses that took a second or more (a dropped SYN, retried by the
// client a second later). Run inside a private network namespace with
// tcp_migrate_req=1 (scripts/netns-run.sh), once per kind:
//   steered    this project's server: steer, then close (drain line 2)
//   unsteered  the same server with DRAIN_STEER=off: close at once (the control)
//   handoff    the same server, each new one taking the old one's socket (handoff.ts)
// The kernel's counters of the namespace are read before and after.
//
// Usage (as root): scripts/netns-run.sh NODE dist/harness/bench/close-race.js KIND RESTARTS
// Prints one JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { offerPath } from '../../server/handoff.js';
import { processStartTime } from '../../server/readiness.js';
import { counterDelta, readNetCounters } from '../runtime/net-counters.js';
import { parseWrk, pinned } from './measure.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PORT = '18080';
const CLOSE_RACE_KINDS = ['steered', 'unsteered', 'handoff'] as const;
type Kind = (typeof CLOSE_RACE_KINDS)[number];

/** wrk's Lua hook: how many responses took a second or more, and the slowest, in µs. */
const SLOW_COUNTER = `
done = function(summary, latency, requests)
  local slow = 0
  for i = 1, #latency do
    local value, count = latency(i)
    if value >= 1000000 then slow = slow + count end
  end
  io.write(string.format("slow %d max %d\\n", slow, latency.max))
end
`;

function start(kind: Kind, stateDir: string, previous?: ChildProcess): Promise<ChildProcess> {
  const args = [join(HERE, '..', '..', 'server', 'main.js')];
  const env: NodeJS.ProcessEnv = { ...process.env, PORT, HOST: '127.0.0.1', STATE_DIR: stateDir };
  if (kind === 'unsteered') env.DRAIN_STEER = 'off';
  if (kind === 'handoff' && previous?.pid)
    env.HANDOFF_FROM = offerPath(stateDir, previous.pid, processStartTime(previous.pid));
  const [cmd, ...rest] = pinned(1, [process.execPath, ...args]);
  const child = spawn(cmd!, rest, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk;
      if (!seen.includes('"event":"ready"')) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // later log lines are not needed
      resolve(child);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the ${kind} server exited (${code}) before it was ready`)));
  });
}

async function main(kind: string, restarts: number): Promise<void> {
  if (!(CLOSE_RACE_KINDS as readonly string[]).includes(kind) || !(restarts >= 1))
    throw new Error(`usage: close-race.js ${CLOSE_RACE_KINDS.join('|')} RESTARTS`);
  const stateDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-close-race-'));
  const script = join(stateDir, 'slow.lua');
  writeFileSync(script, SLOW_COUNTER);
  const before = await readNetCounters('/proc/self/net');
  let current = await start(kind as Kind, stateDir);
  const [wcmd, ...wargs] = pinned(0, [
    'wrk',
    '-t1',
    '-c50',
    '-d3600s',
    '--latency',
    '-s',
    script,
    '-H',
    'Connection: close',
    `http://127.0.0.1:${PORT}/`,
  ]);
  const wrk = spawn(wcmd!, wargs, { stdio: ['ignore', 'pipe', 'inherit'] });
  let report = '';
  wrk.stdout.on('data', (chunk) => (report += chunk));
  const startedAt = Date.now();
  try {
    await sleep(500);
    for (let i = 0; i < restarts; i++) {
      const next = await start(kind as Kind, stateDir, current);
      await sleep(50);
      const old = current;
      current = next;
      const gone = new Promise((resolve) => old.once('exit', resolve));
      old.kill('SIGTERM');
      await gone;
      await sleep(100);
    }
  } finally {
    wrk.kill('SIGINT'); // wrk prints its totals (and runs done()) on SIGINT
    await new Promise((resolve) => wrk.once('exit', resolve));
    current.kill('SIGTERM');
  }
  const counters = counterDelta(before, await readNetCounters('/proc/self/net'));
  const result = parseWrk(report);
  const socketErrors = /Socket errors: [^\n]*/.exec(report)?.[0] ?? null;
  const slow = /^slow (\d+) max (\d+)$/m.exec(report);
  console.log(
    JSON.stringify({
      kind,
      restarts,
      seconds: (Date.now() - startedAt) / 1000,
      requests: result.requests,
      failed: result.errors,
      socketErrors,
      slowResponses: slow ? Number(slow[1]) : null,
      maxLatencyMs: slow ? Number(slow[2]) / 1000 : null,
      counters,
    }),
  );
}

main(process.argv[2] ?? '', Number(process.argv[3])).catch((error: unknown) => {
  process.stderr.write(`close-race: ${(error as Error).message}\n`);
  process.exit(2);
});
