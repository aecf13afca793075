// The rare reset at listener close that tcp_migrate_req does not cover:
// servers restarted back to back (start the next, wait for its ready line,
// SIGTERM the old, wait for its exit) under wrk with a new connection per
// request, counting wrk's socket errors. Run inside a private network
// namespace with tcp_migrate_req=1 (scripts/netns-run.sh), once with this
// project's server and once with a plain Node server that uses Node's own
// reusePort and, like ours, closes only its listener on SIGTERM: if both
// lose connections, the cause is below the server.
//
// Usage (as root): scripts/netns-run.sh NODE dist/harness/bench/close-race.js ours|plain RESTARTS
// Prints one JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseWrk, pinned } from './measure.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PORT = '18080';

/** A plain server with Node's reusePort, draining as ours does: listener closed, exit when no connection is left. */
const PLAIN_DRAINING = `
import { createServer } from 'node:http';
import net from 'node:net';
const body = Buffer.from('OK. Handled by PID: ' + process.pid + '\\n');
const server = createServer((_req, res) => { res.writeHead(200, { 'Content-Length': body.length }); res.end(body); });
server.listen({ port: Number(process.env.PORT), host: '127.0.0.1', reusePort: true }, () => console.log('{"event":"ready"}'));
process.on('SIGTERM', () => net.Server.prototype.close.call(server, () => process.exit(0)));
`;

function start(kind: string, stateDir: string): Promise<ChildProcess> {
  const args = kind === 'ours' ? [join(HERE, '..', '..', 'server', 'main.js')] : ['--input-type=module', '-e', PLAIN_DRAINING];
  const [cmd, ...rest] = pinned(1, [process.execPath, ...args]);
  const child = spawn(cmd!, rest, { env: { ...process.env, PORT, HOST: '127.0.0.1', STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'inherit'] });
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
  if (!['ours', 'plain'].includes(kind) || !(restarts >= 1)) throw new Error('usage: close-race.js ours|plain RESTARTS');
  const stateDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-close-race-'));
  let current = await start(kind, stateDir);
  const [wcmd, ...wargs] = pinned(0, ['wrk', '-t1', '-c50', '-d3600s', '--latency', '-H', 'Connection: close', `http://127.0.0.1:${PORT}/`]);
  const wrk = spawn(wcmd!, wargs, { stdio: ['ignore', 'pipe', 'inherit'] });
  let report = '';
  wrk.stdout.on('data', (chunk) => (report += chunk));
  const startedAt = Date.now();
  try {
    await sleep(500);
    for (let i = 0; i < restarts; i++) {
      const next = await start(kind, stateDir);
      await sleep(50);
      const old = current;
      current = next;
      const gone = new Promise((resolve) => old.once('exit', resolve));
      old.kill('SIGTERM');
      await gone;
      await sleep(100);
    }
  } finally {
    wrk.kill('SIGINT'); // wrk prints its totals on SIGINT
    await new Promise((resolve) => wrk.once('exit', resolve));
    current.kill('SIGTERM');
  }
  const result = parseWrk(report);
  const socketErrors = /Socket errors: [^\n]*/.exec(report)?.[0] ?? null;
  console.log(JSON.stringify({ kind, restarts, seconds: (Date.now() - startedAt) / 1000, requests: result.requests, failed: result.errors, socketErrors }));
}

main(process.argv[2] ?? '', Number(process.argv[3])).catch((error: unknown) => {
  process.stderr.write(`close-race: ${(error as Error).message}\n`);
  process.exit(2);
});
