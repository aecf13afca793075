// The gate over HTTP/2 (--protocol h2c) on the local runtime: our server
// through restarts in both modes, every stream answered and every session
// warned before its final GOAWAY; and the control, a server that sends the
// final GOAWAY alone (--fault one-shot-goaway), failed by the notice check.
import { afterEach, describe, expect, it } from 'vitest';
import { explain, runPoc } from '../test/poc-cli.js';
import { cleanup } from '../test/processes.js';

afterEach(cleanup);

const common = [
  '--runtime',
  'local',
  '--protocol',
  'h2c',
  '--restarts',
  '3',
  '--interval',
  '1.5',
  '--warmup',
  '1',
  '--cooldown',
  '1',
];

const checkOf = (run: Awaited<ReturnType<typeof runPoc>>, id: string) => run.result!.checks.filter((c) => c.id === id);

describe('npm run poc --protocol h2c', () => {
  it('passes our server through 3 restarts in both modes: no stream lost, every session warned first', async () => {
    const run = await runPoc([...common, '--load', 'both']);
    expect(run.code, explain(run)).toBe(0);
    expect(run.schemaProblem).toBeNull();
    const result = run.result!;
    expect(result.failedRequests).toBe(0);
    expect(result.parameters).toMatchObject({ protocol: 'h2c', retryRefused: false });
    expect(result.parameters.loadDescription).toContain("Node's http2 client over h2c with prior knowledge");
    const keepalive = result.modes.find((m) => m.mode === 'keepalive')!.http2!;
    expect(keepalive.goaways.notices).toBeGreaterThan(0);
    expect(keepalive.goaways.finalsWithoutNotice).toBe(0);
    expect(keepalive.streams).toMatchObject({ refused: 0, crossed: 0, reset: 0, cut: 0 });
    expect(result.modes.find((m) => m.mode === 'churn')!.http2!.sessions).toBeGreaterThan(100);
    expect(checkOf(run, 'http2-streams-kept').map((c) => c.passed)).toEqual([true, true]);
    expect(checkOf(run, 'http2-goaway-notice').map((c) => c.passed)).toEqual([true, true]);
    expect(new Set(result.pids.map((p) => p.pid)).size).toBe(4);
  });

  it('--grpc health: every Check answered OK through 3 restarts, every Watch ended OK and back within the budget', async () => {
    const run = await runPoc([...common, '--load', 'keepalive', '--grpc', 'health']);
    expect(run.code, explain(run)).toBe(0);
    expect(run.schemaProblem).toBeNull();
    const result = run.result!;
    expect(result.parameters).toMatchObject({ grpc: 'health', protocol: 'h2c' });
    expect(result.requests).toEqual([
      expect.objectContaining({ name: 'gRPC Health/Check', failed: 0, answered: expect.any(Number) }),
    ]);
    expect(result.modes[0]!.http2!.grpcStatuses).toEqual({ OK: result.modes[0]!.answered });
    const stream = result.stream!;
    expect(stream.kind).toBe('grpc');
    // Each of the 2 Watch calls is ended by each of the 3 drains: NOT_SERVING, then status OK.
    expect(stream.breaks.map((b) => [b.how, b.code])).toEqual(Array(6).fill(['status', 0]));
    expect(stream.breaks.every((b) => b.backAfterMs !== null && b.backAfterMs < 1000)).toBe(true);
    expect(checkOf(run, 'streams')[0]).toMatchObject({ passed: true });
  });

  it('fails a server that sends the final GOAWAY alone on the notice check, and says why', async () => {
    const run = await runPoc([...common, '--load', 'keepalive', '--fault', 'one-shot-goaway']);
    expect(run.code, explain(run)).toBe(1);
    expect(run.schemaProblem).toBeNull();
    const [notice] = checkOf(run, 'http2-goaway-notice');
    expect(notice).toMatchObject({ passed: false });
    expect(notice!.detail).toMatch(/got the final GOAWAY with no notice first \(a one-shot GOAWAY\)/);
    expect(notice!.detail).toContain('wait a round trip (a PING), then the final one');
    // The server still finished every stream it took: what crossed its GOAWAY was refused, never lost.
    expect(checkOf(run, 'http2-streams-kept')[0]).toMatchObject({ passed: true });
    const http2 = run.result!.modes[0]!.http2!;
    expect(run.result!.failuresByCause.refused_stream ?? 0).toBe(http2.streams.refused + http2.streams.crossed);
  });
});
