// Each injectable fault on the local runtime: a restart never makes things
// worse. Rollbacks keep the old server serving with zero failed requests; a
// request cut by a deadline or a kill fails the gate, with the reason.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { explain, runPoc } from '../test/poc-cli.js';
import { cleanup, tempDir } from '../test/processes.js';
import { FAULT_NAMES } from './faults.js';
import { schemaProblem } from './result/document.js';
import { alive } from './runtime/processes.js';

afterEach(cleanup);

const run = (fault: string) =>
  runPoc([
    '--runtime',
    'local',
    '--fault',
    fault,
    '--restarts',
    '2',
    '--interval',
    '2.5',
    '--warmup',
    '1',
    '--cooldown',
    '1',
    '--load',
    'both',
  ]);
type Result = NonNullable<Awaited<ReturnType<typeof runPoc>>['result']>;
const check = (result: Result, name: RegExp) => result.checks.find((c) => name.test(c.name));
const checkById = (result: Result, id: string) => result.checks.find((c) => c.id === id);
const failingIds = (result: Result) => result.checks.filter((c) => !c.passed).map((c) => c.id);

describe('--fault on the local runtime', () => {
  it.each(['crash-at-start', 'never-ready', 'cannot-bind'])(
    '%s: restart #1 rolls back, the old server keeps serving, zero requests fail',
    async (fault) => {
      const poc = await run(fault);
      expect(poc.code, explain(poc)).toBe(0);
      const result = poc.result!;
      expect(result.failedRequests).toBe(0);
      const first = result.restarts[0]!;
      expect(first.exitCode).toBe(1);
      expect(first.events.map((e) => e.event)).toContain('rolled_back');
      expect(check(result, /rolled back \(injected fault\)/)?.passed).toBe(true);
      // The second, normal restart then replaces the old server that survived.
      expect(result.restarts[1]!.exitCode).toBe(0);
      expect(result.restarts[1]!.oldPid).toBe(first.oldPid);
    },
    60_000,
  );

  it('slow-request: a long request spanning the restart completes with 200 from the old PID', async () => {
    const poc = await run('slow-request');
    expect(poc.code, explain(poc)).toBe(0);
    expect(check(poc.result!, /long request/)).toMatchObject({
      passed: true,
      detail: expect.stringContaining(`200 from PID ${poc.result!.restarts[0]!.oldPid}`),
    });
  }, 60_000);

  it('past-deadline: a request longer than the drain deadline is cut, counted, and fails the gate', async () => {
    const poc = await run('past-deadline');
    expect(poc.code, explain(poc)).toBe(1);
    expect(poc.result!.failedRequests).toBe(1);
    expect(check(poc.result!, /long request/)).toMatchObject({
      passed: false,
      detail: expect.stringMatching(/^failed: /),
    });
    // The old server's own word: its drain deadline cut the request, and it exited 1.
    expect(checkById(poc.result!, 'old-server-ending')).toMatchObject({
      passed: false,
      detail: expect.stringMatching(
        /PID \d+ hit its drain deadline and cut 1 connection\(s\) with 1 request\(s\) in flight \(exit 1\)/,
      ),
    });
  }, 60_000);

  it('short-drain: requests the server had are cut 300 ms after SIGTERM; the long lane names cut_in_flight and the restart', async () => {
    const poc = await run('short-drain');
    expect(poc.code, explain(poc)).toBe(1);
    const result = poc.result!;
    expect(result.parameters.longLane).toEqual({ path: '/slow?ms=5000', connections: 2 });
    expect(failingIds(result)).toContain('long-lane');
    expect(checkById(result, 'long-lane')!.detail).toMatch(
      /long requests failed \(\d+ cut_in_flight\); cut at restart #1/,
    );
    expect(checkById(result, 'zero-failed-requests')!.detail).toContain('cut_in_flight');
    expect(schemaProblem(result)).toBeNull();
  }, 60_000);

  it('stop-timeout: an old server still draining at the stop timeout is killed, and the report says by whom', async () => {
    const poc = await run('stop-timeout');
    expect(poc.code, explain(poc)).toBe(1);
    expect(poc.result!.restarts[0]!.events.map((e) => e.event)).toContain('old_killed');
    expect(checkById(poc.result!, 'old-server-ending')).toMatchObject({
      passed: false,
      detail: expect.stringContaining('killed by restart.sh (SIGKILL after the stop timeout)'),
    });
  }, 60_000);

  it('hung-restart: the harness ends the hung restart, says which, exits 1 and leaves nothing running', async () => {
    const poc = await run('hung-restart');
    expect(poc.code, explain(poc)).toBe(1);
    const hung = 'restart #1 did not finish within 3 s';
    expect(check(poc.result!, /every restart exited 0/)).toMatchObject({
      passed: false,
      detail: expect.stringContaining(hung),
    });
    expect(check(poc.result!, /run completed/)).toMatchObject({ passed: false, detail: expect.stringContaining(hung) });
    expect(poc.stdout).toContain(hung);
    expect(poc.result!.restarts).toHaveLength(1);
    // restart.sh got SIGTERM before its commit: it stopped the new server, the old one kept serving.
    expect(poc.result!.restarts[0]!.events.at(-1)).toMatchObject({ event: 'rolled_back', reason: 'interrupted' });
    expect(poc.result!.failedRequests).toBe(0);
    const servers = [poc.result!.target.pid, poc.result!.restarts[0]!.newPid].filter(
      (p): p is number => typeof p === 'number',
    );
    expect(servers.filter(alive)).toEqual([]);
  }, 60_000);

  /**
   * The coordinated-omission test: a server that does not answer for a
   * while, judged by the open model (every request due meanwhile waits, and
   * is counted) and by the closed one (each connection waits once). In each
   * mode the open model must report at least half of rate × the stall's
   * length slow; the closed model's count is beside it.
   */
  const RATE = 400;
  const slowByMode = (result: Result) =>
    Object.fromEntries(result.modes.map((m) => [m.mode, m.failuresByCause.slow ?? 0]));
  const CLOSED = ['--load-model', 'closed', '--connections', '20'];

  it.each([
    { fault: 'stall-after-ready', stallMs: 3000, budget: [] as string[] },
    // 800 ms is within the default 1000 ms budget: the users waited, but not that long. A 200 ms budget counts them.
    { fault: 'freeze', stallMs: 800, budget: ['--latency-budget', '200'] },
  ])(
    '$fault: the open model counts slow every request due while the server did not answer; the closed model, one per connection',
    async ({ fault, stallMs, budget }) => {
      const open = await runPoc([
        '--runtime',
        'local',
        '--fault',
        fault,
        '--restarts',
        '2',
        '--interval',
        '2.5',
        '--warmup',
        '1',
        '--cooldown',
        '1',
        '--rate',
        String(RATE),
        ...budget,
      ]);
      const closed = await runPoc([
        '--runtime',
        'local',
        '--fault',
        fault,
        '--restarts',
        '2',
        '--interval',
        '2.5',
        '--warmup',
        '1',
        '--cooldown',
        '1',
        ...CLOSED,
        ...budget,
      ]);
      expect(open.code, explain(open)).toBe(1);
      expect(closed.code, explain(closed)).toBe(1);
      // On a failure the CI log keeps the evidence: what the stall check and the budget saw, and when the fault ran.
      const evidence = ['no-stall', 'latency-budget', 'load-on-schedule']
        .map((id) => `${id}: ${checkById(open.result!, id)?.detail}`)
        .concat(
          `restart #1 events: ${open.result!.restarts[0]!.events.map((e) => `${e.event} +${e.ts - open.result!.startedAt} ms`).join(', ')}`,
        )
        .join('\n');
      expect(failingIds(open.result!), evidence).toEqual(
        expect.arrayContaining(['zero-failed-requests', 'latency-budget', 'no-stall']),
      );
      expect(checkById(open.result!, 'load-on-schedule')!.passed).toBe(true);
      expect(checkById(open.result!, 'no-stall')!.detail).toMatch(
        /restart #1: of \d+ requests due in 500 ms from [\d.]+ s, \d+ were answered within/,
      );
      const openSlow = slowByMode(open.result!);
      const closedSlow = slowByMode(closed.result!);
      for (const mode of ['keepalive', 'churn']) {
        expect(openSlow[mode], `${mode}: open ${openSlow[mode]}, closed ${closedSlow[mode]}`).toBeGreaterThanOrEqual(
          (RATE * stallMs) / 1000 / 2,
        );
        // A closed loop cannot count more than its connections per stretch in which nothing is answered (twice: the block and the backlog after it).
        expect(closedSlow[mode]).toBeLessThanOrEqual(2 * 20);
        expect(closedSlow[mode]).toBeGreaterThan(0);
      }
      if (fault === 'freeze') {
        const events = open.result!.restarts[0]!.events.map((e) => e.event);
        expect(events.slice(-2)).toEqual(['frozen', 'thawed']);
      }
    },
    90_000,
  );

  it('wrong-version: a new server that reports the previous version fails the version check, and only that', async () => {
    const poc = await run('wrong-version');
    expect(poc.code, explain(poc)).toBe(1);
    expect(failingIds(poc.result!)).toEqual(['versions']);
    expect(checkById(poc.result!, 'versions')!.detail).toBe(
      `PID ${poc.result!.restarts[0]!.newPid} answered as v1, expected v2`,
    );
  }, 60_000);

  it('a 2 s long lane through every restart of ours: none cut, each answered by a server that drained it', async () => {
    const poc = await runPoc([
      '--runtime',
      'local',
      '--long',
      '/slow?ms=2000',
      '--restarts',
      '3',
      '--interval',
      '2.5',
      '--warmup',
      '1',
      '--cooldown',
      '2.5',
      '--load',
      'both',
    ]);
    expect(poc.code, explain(poc)).toBe(0);
    const lane = checkById(poc.result!, 'long-lane')!;
    expect(lane).toMatchObject({ passed: true, name: 'no long request cut at a restart (2 × /slow?ms=2000)' });
    expect(poc.result!.longLane).toMatchObject({ failed: 0, inFlightAtStop: 0 });
    expect(poc.result!.longLane!.answered).toBeGreaterThanOrEqual(8);
    expect(schemaProblem(poc.result)).toBeNull();
  }, 90_000);

  it('event streams through every restart of ours: each ended by the drain and back at the next id, none lost or twice', async () => {
    const poc = await runPoc([
      '--runtime',
      'local',
      '--stream',
      'sse:/events?every=50',
      '--restarts',
      '3',
      '--interval',
      '2',
      '--warmup',
      '1',
      '--cooldown',
      '1.5',
      '--load',
      'both',
    ]);
    expect(poc.code, explain(poc)).toBe(0);
    const stream = poc.result!.stream!;
    expect(checkById(poc.result!, 'streams')).toMatchObject({
      passed: true,
      name: 'every stream ended gracefully and was back within 1000 ms, no message lost (2 × sse:/events?every=50)',
    });
    // Each restart ended each client's stream once, gracefully.
    expect(stream.breaks.map((b) => b.how)).toEqual(Array(6).fill('end'));
    expect(stream.breaks.every((b) => b.backAfterMs !== null && b.lost === 0 && b.duplicated === 0)).toBe(true);
    expect([stream.lostInStream, stream.duplicatedInStream, stream.unnumbered]).toEqual([0, 0, 0]);
    expect(stream.events).toBeGreaterThan(100);
    expect(schemaProblem(poc.result)).toBeNull();
  }, 90_000);

  it('WebSockets through every restart of ours: each closed 1012 by the drain and back at the next number, none lost or twice', async () => {
    const poc = await runPoc([
      '--runtime',
      'local',
      '--stream',
      'ws:/ws?every=50',
      '--restarts',
      '3',
      '--interval',
      '2',
      '--warmup',
      '1',
      '--cooldown',
      '1.5',
      '--load',
      'both',
    ]);
    expect(poc.code, explain(poc)).toBe(0);
    const stream = poc.result!.stream!;
    expect(checkById(poc.result!, 'streams')).toMatchObject({
      passed: true,
      name: 'every stream ended gracefully and was back within 1000 ms, no message lost (2 × ws:/ws?every=50)',
    });
    expect(stream.breaks.map((b) => [b.how, b.code])).toEqual(Array(6).fill(['close', 1012]));
    expect(stream.breaks.every((b) => b.backAfterMs !== null && b.lost === 0 && b.duplicated === 0)).toBe(true);
    expect([stream.lostInStream, stream.duplicatedInStream, stream.unnumbered]).toEqual([0, 0, 0]);
    expect(stream.events).toBeGreaterThan(100);
    expect(schemaProblem(poc.result)).toBeNull();
  }, 90_000);

  it.each([
    [
      'sse:/events?every=50',
      /^a stream ended without a graceful end \((EOF mid-stream|reset)\) at [\d.]+ s (in|after) restart #1/,
    ],
    [
      'ws:/ws?every=50',
      /^a stream ended without a graceful close \((EOF without a close frame|reset)\) at [\d.]+ s (in|after) restart #1/,
    ],
  ])(
    'exit-at-sigterm: a server that just exits at SIGTERM fails the gate; the %s streams check names how each ended',
    async (stream, named) => {
      const poc = await runPoc([
        '--runtime',
        'local',
        '--fault',
        'exit-at-sigterm',
        '--stream',
        stream,
        '--restarts',
        '1',
        '--interval',
        '2',
        '--warmup',
        '1',
        '--cooldown',
        '1.5',
        '--load',
        'both',
      ]);
      expect(poc.code, explain(poc)).toBe(1);
      expect(failingIds(poc.result!)).toContain('streams');
      expect(checkById(poc.result!, 'streams')!.detail).toMatch(named);
      // Both clients' streams were the old server's: both ended with it, neither gracefully.
      expect(poc.result!.stream!.breaks.filter((b) => b.how === 'cut' || b.how === 'reset')).toHaveLength(2);
    },
    60_000,
  );

  it('a POST mix through every restart of ours: none lost, each kind counted on its own in result.json', async () => {
    const body = join(tempDir(), 'order.json');
    writeFileSync(body, '{"sku":42}');
    const poc = await runPoc([
      '--runtime',
      'local',
      '--request',
      'GET /',
      '--request',
      `POST /submit @${body}`,
      '--restarts',
      '3',
      '--interval',
      '2',
      '--warmup',
      '1',
      '--cooldown',
      '1.5',
      '--load',
      'both',
    ]);
    expect(poc.code, explain(poc)).toBe(0);
    const kinds = poc.result!.requests!;
    expect(kinds.map((k) => [k.name, k.failed, k.inFlightAtStop])).toEqual([
      ['GET /', 0, 0],
      ['POST /submit', 0, 0],
    ]);
    for (const kind of kinds) expect(kind.answered).toBeGreaterThan(1000);
    // Every request is one kind's: the kinds add up to the run.
    expect(kinds.reduce((n, k) => n + k.written, 0)).toBe(poc.result!.written);
    expect(poc.result!.parameters.requests).toEqual([
      { name: 'GET /', method: 'GET', path: '/', headers: {}, bodyBytes: 0, weight: 1 },
      {
        name: 'POST /submit',
        method: 'POST',
        path: '/submit',
        headers: { 'Content-Type': 'application/json' },
        bodyBytes: 10,
        weight: 1,
      },
    ]);
    expect(poc.result!.checks.filter((c) => c.id === 'request-mix')).toMatchObject([
      { passed: true, name: 'every GET / answered, none failed (weight 1)' },
      { passed: true, name: 'every POST /submit answered, none failed (weight 1)' },
    ]);
    expect(schemaProblem(poc.result)).toBeNull();
  }, 90_000);

  it('the same POST mix through a stop-then-start restart: the POSTs lost are called out as not idempotent', async () => {
    const poc = await runPoc([
      '--runtime',
      'local',
      '--strategy',
      'naive',
      '--request',
      'GET /',
      '--request',
      'POST /submit',
      '--restarts',
      '1',
      '--interval',
      '2',
      '--warmup',
      '1',
      '--cooldown',
      '1.5',
      '--load',
      'both',
    ]);
    expect(poc.code, explain(poc)).toBe(1);
    expect(failingIds(poc.result!)).toContain('request-mix');
    const [get, post] = poc.result!.checks.filter((c) => c.id === 'request-mix');
    expect(post!.detail).toMatch(
      /^\d+ POST \/submit failed, and POST is not idempotent: a client cannot tell whether it was applied, nor safely send it again\. /,
    );
    expect(get!.detail).toMatch(/^\d+ GET \/ failed\. /);
  }, 60_000);

  it('lists every fault in --help', async () => {
    const help = await runPoc(['--help']);
    for (const name of FAULT_NAMES) expect(help.stdout).toContain(name);
  });
});

describe('bad input: one clear line, exit 2, nothing left behind', () => {
  it.each([
    [['--report-dir', '/etc/passwd/x'], /--report-dir \/etc\/passwd\/x cannot be written/],
    [['--fault', 'meteor'], /--fault "meteor" is not one of/],
    [['--restarts', '0'], /--restarts "0" is not valid: use a number from 1 to 1000/],
    [
      ['--warmup', '0'],
      /--warmup "0" is not valid: give a duration from 1s to 3600s, such as 10s or 500ms \(a bare number is seconds\)/,
    ],
    [['--latency-budget', '20000'], /--latency-budget 20000 ms must be below --timeout \(10 s\)/],
    [['--stall-floor', '2'], /--stall-floor "2" is not valid: use a number from 0 to 1/],
    [
      ['--strategy', 'naive', '--fault', 'crash-at-start'],
      /--fault crash-at-start does not apply to --strategy naive: the naive control fails the gate already/,
    ],
    [['--strategy', 'bluegreen'], /--strategy "bluegreen" is not one of reuseport, handoff, naive/],
    [['--long', 'slow?ms=2000'], /--long "slow\?ms=2000" is not a path: give one that starts with \//],
    [['--long', '/slow', '--long-connections', '0'], /--long-connections "0" is not valid: use a number from 1 to 100/],
    [
      ['--stream', 'gopher:/x'],
      /--stream "gopher:\/x": unknown kind "gopher"; use sse:\/PATH \(Server-Sent Events\) or ws:\/PATH \(WebSocket\)/,
    ],
    [['--request', 'GET'], /--request "GET" is not 'METHOD PATH \[@bodyfile\]'; use e\.g\. --request 'GET \/'/],
    [
      ['--request', 'POST /submit @/nonexistent/order.json'],
      /--request "POST \/submit @\/nonexistent\/order\.json": cannot read the body file \/nonexistent\/order\.json \(ENOENT\)/,
    ],
    [['--stream', '/events'], /--stream "\/events" is not KIND:PATH; use e.g. --stream sse:\/events/],
    [['--interval', '-1'], /--interval/],
    [['--runtime', 'local', '--keep'], /apply to the docker runtime only/],
  ])('%j', async (args, message) => {
    const poc = await runPoc(args);
    expect(poc.code).toBe(2);
    expect(poc.stderr).toMatch(message);
    expect(poc.stderr.trim().split('\n')).toHaveLength(1);
    expect(poc.result).toBeUndefined();
  });

  it('no Docker engine reachable with --runtime docker', async () => {
    const poc = await runPoc(['--runtime', 'docker'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(poc.code).toBe(4);
    expect(poc.stderr).toMatch(/no Docker engine answers; start Docker .* or use --runtime local/);
  });
});
