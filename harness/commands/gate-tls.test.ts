// `reuseport-lab gate --url https://...` against this project's server serving
// HTTPS with a self-signed certificate (test/fixtures/tls), restarted by
// restart.sh on the host: gated with --insecure, refused in one line without.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PocRun, runReporting } from '../../test/poc-cli.js';
import { FIXTURES, SCRIPTS, tempDir } from '../../test/processes.js';
import { freePort } from '../runtime/processes.js';
import type { ResultDocument } from '../result/document.js';

type GateRun = Omit<PocRun, 'result'> & {
  result?: {
    passed: boolean;
    written: number;
    checks: { id: string; passed: boolean; detail: string }[];
    parameters: { tls?: { insecure: boolean }; protocol?: string };
    failuresByCause: Record<string, number>;
    modes: ResultDocument['modes'];
    pids: { pid: number }[];
    stream: { breaks: { how: string; code?: number }[] } | null;
  };
};

async function gate(args: string[]): Promise<GateRun> {
  const reportDir = tempDir('reuseport-lab-gate-tls-');
  const run = await runReporting(
    'npx',
    [
      '--no-install',
      'reuseport-lab',
      'gate',
      '--report-dir',
      reportDir,
      '--restarts',
      '2',
      '--interval',
      '2',
      '--warmup',
      '1.5',
      '--cooldown',
      '1.5',
      ...args,
    ],
    reportDir,
  );
  return run as unknown as GateRun;
}

const explain = (run: GateRun) =>
  `exit ${run.code}; ${
    run.result?.checks
      .filter((c) => !c.passed)
      .map((c) => `${c.id}: ${c.detail}`)
      .join('; ') ?? ''
  }; stderr: ${run.stderr.slice(-400)}`;

describe('gate an HTTPS service (--url https://)', () => {
  const stateDir = tempDir('reuseport-lab-gate-tls-state-');
  let port = 0;
  let restart = '';

  beforeAll(async () => {
    port = await freePort();
    const env = `STATE_DIR=${stateDir} PORT=${port} HOST=127.0.0.1 TLS_CERT=${join(FIXTURES, 'tls/self-signed.crt')} TLS_KEY=${join(FIXTURES, 'tls/self-signed.key')}`;
    restart = `env ${env} ${join(SCRIPTS, 'restart.sh')}`;
    const cold = await new Promise<number | null>((resolve) =>
      spawn('sh', ['-c', restart], { stdio: 'ignore' }).on('close', resolve),
    );
    expect(cold).toBe(0);
  }, 60_000);

  afterAll(() => {
    const pid = Number(readFileSync(join(stateDir, 'server.pid'), 'utf8').split(' ')[0]);
    process.kill(pid, 'SIGTERM');
  });

  it('refuses a self-signed certificate in one line without --insecure, before any load', async () => {
    const run = await gate(['--url', `https://127.0.0.1:${port}/`, '--restart', restart]);
    expect(run.code).toBe(4);
    expect(
      run.stderr
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('npm warn')),
    ).toEqual([
      expect.stringMatching(
        new RegExp(
          `https://127\\.0\\.0\\.1:${port}: its certificate is not trusted \\(DEPTH_ZERO_SELF_SIGNED_CERT: self[- ]signed certificate\\); pass --insecure to gate it anyway \\(a self-signed certificate\\), or trust its CA with NODE_EXTRA_CA_CERTS=ca\\.pem$`,
        ),
      ),
    ]);
    expect(run.result).toBeUndefined();
  }, 60_000);

  it('gates it with --insecure through restart.sh: every load over TLS, a WebSocket stream over wss, nothing lost', async () => {
    // Keep-alive load only: on the host's own network namespace tcp_migrate_req may be 0 (see gate-docker.test.ts).
    const run = await gate([
      '--url',
      `https://127.0.0.1:${port}/`,
      '--insecure',
      '--restart',
      restart,
      '--load',
      'keepalive',
      '--stream',
      'ws:/ws?every=50',
    ]);
    expect(run.code, explain(run)).toBe(0);
    expect(run.result!.parameters.tls).toEqual({ insecure: true });
    expect(run.result!.pids.length).toBe(3);
    // 2 clients, each closed 1012 by the drain at each of the 2 restarts.
    expect(run.result!.stream!.breaks.map((b) => [b.how, b.code])).toEqual(Array(4).fill(['close', 1012]));
  }, 120_000);

  it('gates it over HTTP/2 (--protocol h2, through ALPN) with --insecure: every session warned, no stream lost', async () => {
    const run = await gate([
      '--url',
      `https://127.0.0.1:${port}/`,
      '--insecure',
      '--protocol',
      'h2',
      '--restart',
      restart,
      '--load',
      'keepalive',
    ]);
    expect(run.code, explain(run)).toBe(0);
    expect(run.result!.parameters).toMatchObject({ protocol: 'h2', tls: { insecure: true } });
    expect(run.result!.failuresByCause).toEqual({});
    const http2 = run.result!.modes[0]!.http2!;
    expect(http2.protocol).toBe('h2');
    expect(http2.goaways.notices).toBeGreaterThan(0);
    expect(http2.goaways.finalsWithoutNotice).toBe(0);
    expect(run.result!.checks.filter((c) => c.id.startsWith('http2-')).map((c) => c.passed)).toEqual([true, true]);
  }, 120_000);

  it('gates gRPC over TLS (--grpc health to an https:// URL is h2): Check calls and Watch streams, nothing lost', async () => {
    const run = await gate([
      '--url',
      `https://127.0.0.1:${port}/`,
      '--insecure',
      '--grpc',
      'health',
      '--restart',
      restart,
      '--load',
      'keepalive',
    ]);
    expect(run.code, explain(run)).toBe(0);
    expect(run.result!.parameters).toMatchObject({ protocol: 'h2', grpc: 'health', tls: { insecure: true } });
    expect(run.result!.failuresByCause).toEqual({});
    expect(run.result!.modes[0]!.http2!.grpcStatuses).toEqual({ OK: run.result!.modes[0]!.answered });
    // 2 Watch calls, each ended by the drain (NOT_SERVING, then OK) at each of the 2 restarts, over TLS.
    expect(run.result!.stream!.breaks.map((b) => [b.how, b.code])).toEqual(Array(4).fill(['status', 0]));
  }, 120_000);

  it('says in one line, before any load, that a target does not speak HTTP/2 (--protocol h2c)', async () => {
    const plain = http.createServer((_req, res) => res.end('OK\n'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const { port: plainPort } = plain.address() as AddressInfo;
      const run = await gate(['--url', `http://127.0.0.1:${plainPort}/`, '--protocol', 'h2c', '--restart', 'true']);
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(
        new RegExp(
          `--protocol h2c: the target on 127\\.0\\.0\\.1:${plainPort} did not answer HTTP/2 \\(.+\\); drop --protocol, or point it at a server that speaks h2c`,
        ),
      );
      expect(run.result).toBeUndefined();
    } finally {
      plain.closeAllConnections();
      plain.close();
    }
  }, 60_000);

  it('refuses --insecure for a plain HTTP target, and --tls with --url', async () => {
    const insecure = await gate(['--url', `http://127.0.0.1:${port}/`, '--insecure', '--restart', 'true']);
    expect([insecure.code, insecure.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(/--insecure applies to an HTTPS target only/),
    ]);
    const tls = await gate(['--url', `https://127.0.0.1:${port}/`, '--tls', '--restart', 'true']);
    expect([tls.code, tls.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(/--tls is for --image; for --url give an https:\/\/ URL/),
    ]);
  }, 60_000);
});
