// Each check of the verdict, failing and passing, on hand-made results.
import { describe, expect, it } from 'vitest';
import { BUDGET, type Feed, healthy, restart, scenario, t0 } from '../test/fixtures/scenario-result.js';
import { UNKNOWN_PID } from './load/response-check.js';
import { IMAGE_SIGHT } from './runtime/target/image.js';
import type { Sight } from './runtime/runtime.js';
import { URL_SIGHT } from './runtime/target/url.js';
import { CHECKS, EXIT_TOLERANCE_MS, judge, MIN_ANSWERED_PER_MODE, type CheckId } from './verdict.js';
import { type RunRecord, schemaProblem, toResultDocument } from './result/document.js';
import { CheckSchema } from './result/record.js';

const failing = (result: RunRecord) =>
  judge(result)
    .checks.filter((c) => !c.passed)
    .map((c) => c.id);
const detail = (result: RunRecord, id: CheckId) => judge(result).checks.find((c) => c.id === id)?.detail ?? '';

describe('the check table and the result schema', () => {
  it('every check id is one that result.json allows: a new check cannot write a file its own schema refuses', () => {
    expect([...CheckSchema.properties.id.enum].sort()).toEqual(CHECKS.map((c) => c.id).sort());
  });
});

describe('judge', () => {
  it('passes a clean handover, with every check present under a stable id', () => {
    const verdict = judge(scenario(healthy, { load: 'both' }));
    expect(verdict.checks.filter((c) => !c.passed)).toEqual([]);
    expect(verdict.passed).toBe(true);
    expect(verdict.checks.map((c) => c.id)).toEqual([
      'load-ran',
      'zero-failed-requests',
      'latency-budget',
      'no-stall',
      'accounting',
      'restarts-exited-0',
      'old-server-ending',
      'new-pids-answered',
      'old-pid-silent-after-exit',
      'versions',
      'only-newest-at-end',
    ]);
  });

  it('fails on a single failed request, naming the cause', () => {
    const result = scenario((m, r) => (healthy(m, r), r.written(), r.fail('silent_loss', t0 + 1200)));
    expect(failing(result)).toEqual(['zero-failed-requests']);
    expect(detail(result, 'zero-failed-requests')).toContain('1 silent_loss');
  });

  it('fails a response slower than the latency budget, and says how slow the switchover was', () => {
    const result = scenario((m, r) => (healthy(m, r), r.written(), r.answer(2, 'v2', BUDGET + 2000, t0 + 1250)));
    expect(failing(result)).toEqual(['zero-failed-requests', 'latency-budget']);
    expect(detail(result, 'latency-budget')).toMatch(
      /^1 responses slower than the budget; slowest switchover: restart #1, p99 \d+ ms, max 30\d\d ms \(steady p99 5 ms/,
    );
  });

  it('fails a 1 s stall inside a switchover, in the mode that stalled, and not a one-bucket dip', () => {
    const stalled: Feed = (mode, r) => {
      for (let t = 0; t < 3000; t += 10) {
        if (mode === 'churn' && t >= 1100 && t < 2100) continue; // nothing answered for 1 s
        r.written();
        r.answer(t < 1150 ? 1 : 2, t < 1150 ? 'v1' : 'v2', 5, t0 + t);
      }
    };
    const restarts = [
      {
        ...restart(1, 1, 2, t0 + 1000),
        finishedAt: t0 + 2300,
        events: [
          ...restart(1, 1, 2, t0 + 1000).events.slice(0, 4),
          { ts: t0 + 2200, event: 'old_exited' as const, pid: 1 },
        ],
      },
    ];
    const result = scenario(stalled, { load: 'both', restarts });
    expect(failing(result)).toEqual(['no-stall']);
    expect(detail(result, 'no-stall')).toMatch(
      /^new connection per request: restart #1 answered 0 in 500 ms from 1\.10 s, against 50 in the warm-up/,
    );

    // One 100 ms bucket at 10% of the rate, then the backlog: as normal restarts on 2 cores look.
    const dip: Feed = (mode, r) => {
      for (let t = 0; t < 3000; t += 10) {
        if (t >= 1200 && t < 1300 && t % 100 !== 0) continue;
        r.written();
        r.answer(t < 1150 ? 1 : 2, t < 1150 ? 'v1' : 'v2', 5, t0 + t);
      }
    };
    expect(failing(scenario(dip, { load: 'both' }))).toEqual([]);
  });

  it('fails when a load mode delivered almost nothing: the load did not run', () => {
    const thin: Feed = (mode, r) => (mode === 'churn' ? r.answer(1, 'v1', 5, t0 + 10) : healthy(mode, r));
    const result = scenario((m, r) => (thin(m, r), m === 'churn' && r.written()), { load: 'both' });
    expect(failing(result)).toContain('load-ran');
    expect(detail(result, 'load-ran')).toBe(
      `the load did not run: new connection per request answered only 1 requests (at least ${MIN_ANSWERED_PER_MODE} needed)`,
    );
  });

  it('fails when a written request is neither answered, failed nor in flight', () => {
    const result = scenario((m, r) => (healthy(m, r), r.written()));
    expect(failing(result)).toEqual(['accounting']);
    expect(detail(result, 'accounting')).toContain(
      'MISMATCH keep-alive: 311 written = 310 answered + 0 failed + 0 in flight at stop',
    );
  });

  it('fails when the restart script did not exit 0, or hung', () => {
    expect(failing(scenario(healthy, { restarts: [restart(1, 1, 2, t0 + 1000, 1)] }))).toContain('restarts-exited-0');
    const hung = { ...restart(1, 1, 2, t0 + 1000, 124), timedOut: 'restart #1 did not finish within 60 s' };
    expect(detail(scenario(healthy, { restarts: [hung] }), 'restarts-exited-0')).toBe(
      'restart #1 did not finish within 60 s',
    );
  });

  it('fails when the new PID never answered', () => {
    const result = scenario((_m, r) => {
      for (let t = 0; t < 3000; t += 10) {
        r.written();
        r.answer(1, 'v1', 5, t0 + t);
      }
    });
    expect(failing(result)).toEqual(
      expect.arrayContaining(['new-pids-answered', 'old-pid-silent-after-exit', 'only-newest-at-end']),
    );
  });

  it('fails when the old PID answers after its exit, beyond the tolerance', () => {
    const late: Feed = (m, r) => (healthy(m, r), r.written(), r.answer(1, 'v1', 5, t0 + 1300 + EXIT_TOLERANCE_MS + 1));
    expect(failing(scenario(late))).toContain('old-pid-silent-after-exit');
    const close: Feed = (m, r) => (healthy(m, r), r.written(), r.answer(1, 'v1', 5, t0 + 1300 + EXIT_TOLERANCE_MS - 1));
    expect(judge(scenario(close)).passed).toBe(true);
  });

  it('fails when a PID answers with another version than it was started with, or is no server of the run', () => {
    const wrong: Feed = (m, r) => (healthy(m, r), r.written(), r.answer(2, 'v1', 5, t0 + 2000));
    expect(failing(scenario(wrong))).toEqual(['versions']);
    expect(detail(scenario(wrong), 'versions')).toBe('PID 2 answered as v2, v1, expected v2');
    const stranger: Feed = (m, r) => (healthy(m, r), r.written(), r.answer(99, 'v2', 5, t0 + 1150));
    expect(detail(scenario(stranger), 'versions')).toBe('PID 99 answered but is no server of this run');
  });

  it('judges how the old server ended: a drain deadline, a non-zero exit, no word, or an unreadable log', () => {
    const cut = scenario(healthy, {
      servers: [{ pid: 1, exitCode: 1, drainDeadline: { cutConnections: 3, cutRequests: 1 }, listenerClose: null }],
    });
    expect(failing(cut)).toEqual(['old-server-ending']);
    expect(detail(cut, 'old-server-ending')).toBe(
      'restart 1: PID 1 hit its drain deadline and cut 3 connection(s) with 1 request(s) in flight (exit 1)',
    );
    expect(
      detail(
        scenario(healthy, { servers: [{ pid: 1, exitCode: 2, drainDeadline: null, listenerClose: null }] }),
        'old-server-ending',
      ),
    ).toBe('restart 1: PID 1 exited 2');
    expect(detail(scenario(healthy, { servers: [] }), 'old-server-ending')).toBe(
      "restart 1: PID 1 left no exit line in the servers' log",
    );
    const unread = scenario(healthy, { servers: null });
    expect(failing(unread)).toEqual(['old-server-ending']);
    expect(detail(unread, 'old-server-ending')).toContain('could not be read');
  });

  it('fails a leftovers probe that failed, instead of dropping the check', () => {
    const result = scenario(healthy, {
      edit: (r) => (r.leftoversError = 'the leftovers probe failed: exec timed out'),
    });
    expect(failing(result)).toEqual(['no-leftovers']);
  });

  it('a failed request names what its switchover saw: the harness, the kernel counters, the old listener', () => {
    const lost: Feed = (m, r) => (healthy(m, r), r.written(), r.fail('connection_reset', t0 + 1200));
    const responsive = scenario(lost, {
      edit: (r) => {
        r.harness = [{ start: t0 + 1100, loopDelayMaxMs: 12, harnessCpu: 0.4, machineBusy: 0.9, steal: 0 }];
        r.netCounters.restarts[0]!.delta.TCPMigrateReqSuccess = 3;
        r.servers![0]!.listenerClose = {
          steered: false,
          handedTo: null,
          reason: 'DRAIN_STEER=off',
          acceptedWhileDraining: 4,
        };
      },
    });
    expect(detail(responsive, 'zero-failed-requests')).toBe(
      '1 of 311 failed (1 connection_reset). restart #1: the harness was responsive (event loop at most 12 ms late; CPUs 90% busy); kernel: TCPMigrateReqSuccess +3; old listener not steered (DRAIN_STEER=off)',
    );

    const slow: Feed = (m, r) => (healthy(m, r), r.written(), r.answer(2, 'v2', BUDGET + 200, t0 + 1250));
    const starved = scenario(slow, {
      edit: (r) => (r.harness = [{ start: t0 + 1200, loopDelayMaxMs: 900, harnessCpu: 1, machineBusy: 1, steal: 0.3 }]),
    });
    expect(failing(starved)).toEqual(['zero-failed-requests', 'latency-budget']);
    expect(detail(starved, 'latency-budget')).toContain(
      'restart #1: the harness itself was stalled (its event loop up to 900 ms late; CPUs 100% busy, 30% stolen): what it timed includes its own delay; kernel: no counter moved; old listener steered before it closed',
    );
    const unread = scenario(slow, {
      edit: (r) =>
        (r.netCounters = {
          source: null,
          error: 'the gate did not start the service (--url)',
          warmup: null,
          restarts: [],
        }),
    });
    expect(detail(unread, 'latency-budget')).toContain('kernel counters: the gate did not start the service (--url)');
  });

  it('a stall in one mode says what the other mode answered meanwhile', () => {
    const stalled: Feed = (mode, r) => {
      for (let t = 0; t < 3000; t += 10) {
        if (mode === 'churn' && t >= 1100 && t < 2100) continue;
        r.written();
        r.answer(t < 1150 ? 1 : 2, t < 1150 ? 'v1' : 'v2', 5, t0 + t);
      }
    };
    const restarts = [
      {
        ...restart(1, 1, 2, t0 + 1000),
        finishedAt: t0 + 2300,
        events: [
          ...restart(1, 1, 2, t0 + 1000).events.slice(0, 4),
          { ts: t0 + 2200, event: 'old_exited' as const, pid: 1 },
        ],
      },
    ];
    expect(detail(scenario(stalled, { load: 'both', restarts }), 'no-stall')).toMatch(
      /^new connection per request: restart #1 answered 0 in 500 ms from 1\.10 s, against 50 in the warm-up \(6 stalled stretches\) \(keep-alive answered 50 meanwhile, against 50 in the warm-up\)\. restart #1: the harness was responsive/,
    );
  });

  it('judges a long lane: passes when none was cut, and names the restart a cut request belonged to', () => {
    // Its buckets: only the one holding the failures, inside restart #1's switchover (t0+1000..1300).
    const lane = (failures: Record<string, number>) => (record: RunRecord) => {
      const failed = Object.values(failures).reduce((a, b) => a + b, 0);
      record.longLane = {
        path: '/slow?ms=2000',
        connections: 2,
        written: 6 + failed,
        answered: 6,
        failed,
        inFlightAtStop: 0,
        failuresByCause: failures,
        latency: { count: 6, p50: 2001, p99: 2010, max: 2010 },
        buckets: failed ? [{ start: t0 + 1100, answered: 0, pids: {}, failures, latency: null }] : [],
      };
    };
    const clean = scenario(healthy, { edit: lane({}) });
    expect(failing(clean)).toEqual([]);
    expect(judge(clean).checks.find((c) => c.id === 'long-lane')).toMatchObject({
      name: 'no long request cut at a restart (2 × /slow?ms=2000)',
      passed: true,
      detail: '6 long requests answered, none cut, p50 2001 ms, max 2010 ms',
    });
    expect(detail(clean, 'accounting')).toContain('long lane: 6 written = 6 answered + 0 failed + 0 in flight at stop');
    const cut = scenario(healthy, { edit: lane({ cut_in_flight: 2 }) });
    expect(failing(cut)).toEqual(['long-lane']);
    expect(schemaProblem(toResultDocument(cut, judge(cut)))).toBeNull();
    expect(detail(cut, 'long-lane')).toMatch(
      /^2 of 8 long requests failed \(2 cut_in_flight\); cut at restart #1; 6 answered, p50 2001 ms, max 2010 ms\. restart #1: /,
    );
    expect(judge(scenario(healthy)).checks.map((c) => c.id)).not.toContain('long-lane');
  });

  it('judges a stream lane: a graceful end, back within the budget and nothing lost passes; an EOF, a late return or a lost event fails, naming the restart', () => {
    type Break = {
      at: number;
      how: 'end' | 'cut' | 'close' | 'reset';
      code?: number;
      backAfterMs: number | null;
      lost: number;
    };
    const streams =
      (breaks: Break[], kind: 'sse' | 'ws' = 'sse') =>
      (record: RunRecord) => {
        record.stream = {
          kind,
          path: kind === 'ws' ? '/ws' : '/events',
          connections: 1,
          events: 50,
          unnumbered: 0,
          lostInStream: 0,
          duplicatedInStream: 0,
          breaks: breaks.map((b) => ({ ...b, duplicated: 0 })),
        };
      };
    const clean = scenario(healthy, { edit: streams([{ at: t0 + 1110, how: 'end', backAfterMs: 120, lost: 0 }]) });
    expect(failing(clean)).toEqual([]);
    expect(judge(clean).checks.find((c) => c.id === 'streams')).toMatchObject({
      name: 'every stream ended gracefully and was back within 1000 ms, no message lost (1 × sse:/events)',
      detail: '50 events; 1 ended (1 end of stream), back after p50 120 ms, max 120 ms; 0 lost, 0 seen twice',
    });
    const late = scenario(healthy, { edit: streams([{ at: t0 + 1110, how: 'end', backAfterMs: 1500, lost: 0 }]) });
    expect(failing(late)).toEqual(['streams']);
    expect(detail(late, 'streams')).toMatch(
      /^a stream that ended \(end of stream\) at 1\.11 s in restart #1 was back only after 1500 ms\. /,
    );
    const cut = scenario(healthy, { edit: streams([{ at: t0 + 1110, how: 'cut', backAfterMs: 120, lost: 0 }]) });
    expect(failing(cut)).toEqual(['streams']);
    expect(detail(cut, 'streams')).toMatch(
      /^a stream ended without a graceful end \(EOF mid-stream\) at 1\.11 s in restart #1\. /,
    );
    // WebSockets: 1012 is graceful; a reset or an error's close code is not.
    const restarted = scenario(healthy, {
      edit: streams([{ at: t0 + 1110, how: 'close', code: 1012, backAfterMs: 120, lost: 0 }], 'ws'),
    });
    expect(failing(restarted)).toEqual([]);
    expect(detail(restarted, 'streams')).toBe(
      '50 messages; 1 ended (1 close 1012 Service Restart), back after p50 120 ms, max 120 ms; 0 lost, 0 seen twice',
    );
    const reset = scenario(healthy, {
      edit: streams(
        [
          { at: t0 + 1110, how: 'reset', backAfterMs: 120, lost: 0 },
          { at: t0 + 1110, how: 'close', code: 1011, backAfterMs: 120, lost: 0 },
        ],
        'ws',
      ),
    });
    expect(schemaProblem(toResultDocument(reset, judge(reset)))).toBeNull();
    expect(detail(reset, 'streams')).toMatch(
      /^a stream ended without a graceful close \(reset\) at 1\.11 s in restart #1; a stream ended without a graceful close \(close 1011 Internal Error\) at 1\.11 s in restart #1\. /,
    );
    const gone = scenario(healthy, { edit: streams([{ at: t0 + 2500, how: 'end', backAfterMs: null, lost: 0 }]) });
    expect(detail(gone, 'streams')).toMatch(
      /^a stream that ended \(end of stream\) at 2\.50 s after restart #1 was not back by the end\. /,
    );
    const lost = scenario(healthy, { edit: streams([{ at: t0 + 1110, how: 'end', backAfterMs: 120, lost: 3 }]) });
    expect(failing(lost)).toEqual(['streams']);
    expect(schemaProblem(toResultDocument(lost, judge(lost)))).toBeNull();
    expect(detail(lost, 'streams')).toMatch(
      /^a stream that ended \(end of stream\) at 1\.11 s in restart #1 came back with 3 ids lost\. .*; 3 lost, 0 seen twice$/,
    );
  });

  it('judges a request mix per kind: all answered passes; a failed POST is called out as not idempotent, a failed GET plainly', () => {
    type Kind = NonNullable<RunRecord['requests']>[number];
    const kind = (name: string, failed: number): Kind => {
      const [method, path] = name.split(' ') as [string, string];
      return {
        name,
        method,
        path,
        weight: 1,
        written: 100 + failed,
        answered: 100,
        failed,
        inFlightAtStop: 0,
        failuresByCause: failed ? { connection_reset: failed } : {},
        latency: { count: 100, p50: 1, p99: 3, max: 4 },
        latencyTail: { aboveMs: 100, responses: [], unansweredAtStop: [] },
      };
    };
    const mix = (kinds: Kind[]) => (record: RunRecord) => void (record.requests = kinds);
    const clean = scenario(healthy, { edit: mix([kind('GET /', 0), kind('POST /submit', 0)]) });
    expect(failing(clean)).toEqual([]);
    // One judgement per kind, so that every view (the JUnit testcases among them) lists the kind that failed.
    const kinds = (record: RunRecord) => judge(record).checks.filter((c) => c.id === 'request-mix');
    expect(kinds(clean)).toMatchObject([
      {
        name: 'every GET / answered, none failed (weight 1)',
        passed: true,
        detail: '100 answered, 0 failed, p99 3 ms',
      },
      {
        name: 'every POST /submit answered, none failed (weight 1)',
        passed: true,
        detail: '100 answered, 0 failed, p99 3 ms',
      },
    ]);
    expect(schemaProblem(toResultDocument(clean, judge(clean)))).toBeNull();
    const lost = scenario(healthy, { edit: mix([kind('GET /', 2), kind('POST /submit', 1)]) });
    expect(failing(lost)).toContain('request-mix');
    expect(kinds(lost).map((c) => [c.passed, c.detail])).toEqual([
      [false, '2 GET / failed. 100 answered, 2 failed (2 connection_reset), p99 3 ms'],
      [
        false,
        '1 POST /submit failed, and POST is not idempotent: a client cannot tell whether it was applied, nor safely send it again. ' +
          '100 answered, 1 failed (1 connection_reset), p99 3 ms',
      ],
    ]);
    const unanswered = scenario(healthy, { edit: mix([{ ...kind('GET /', 0), answered: 0, written: 0 }]) });
    expect(kinds(unanswered).map((c) => [c.passed, c.detail])).toEqual([
      [false, 'GET / was never answered. 0 answered, 0 failed, p99 3 ms'],
    ]);
    expect(judge(scenario(healthy)).checks.map((c) => c.id)).not.toContain('request-mix');
  });

  it('fails an interrupted run even without failures', () => {
    const result = scenario(healthy, { edit: (r) => (r.interrupted = { reason: 'interrupted by SIGINT' }) });
    expect(failing(result)).toEqual(['run-completed']);
    expect(detail(result, 'run-completed')).toBe('interrupted: interrupted by SIGINT');
  });
});

describe('judge, for a server the gate only knows by its answers', () => {
  const theirs = (feed: Feed, sight: Partial<Sight> = {}, edit?: (r: RunRecord) => void) =>
    scenario(feed, {
      edit: (r) => {
        r.runtime.observes = { ...IMAGE_SIGHT, ...sight };
        r.parameters.server = {
          identity: 'header:x-worker',
          identityGiven: true,
          path: '/',
          ready: 'port',
          restart: 'kill -HUP 1',
        };
        r.servers = null;
        edit?.(r);
      },
    });
  const check = (record: RunRecord, id: CheckId) => judge(record).checks.find((c) => c.id === id);

  it('skips what its runtime cannot see, with the reason as data, and judges processes by when they first answered', () => {
    const verdict = judge(theirs(healthy));
    expect(verdict.checks.filter((c) => !c.passed)).toEqual([]);
    expect(verdict.checks.filter((c) => c.skipped).map((c) => [c.id, c.skipReason])).toEqual([
      ['old-server-ending', 'the gate reads no exit lines from your server'],
      ['old-pid-silent-after-exit', 'the gate cannot see when your processes exit'],
      ['versions', 'the gate does not start your versions'],
    ]);
    expect(check(theirs(healthy), 'new-pids-answered')).toMatchObject({
      name: 'each restart brought a new process that answered',
      detail: '2 processes answered over the run',
    });
  });

  it('fails a restart after which no new process answered, and a process from before the last restart still answering at the end', () => {
    const same: Feed = (_m, r) => {
      for (let t = 0; t < 3000; t += 10) {
        r.written();
        r.answer(1, '', 5, t0 + t);
      }
    };
    expect(check(theirs(same), 'new-pids-answered')).toMatchObject({
      passed: false,
      detail: 'restart 1: no process answered that had not answered before it',
    });
    expect(check(theirs(same), 'only-newest-at-end')).toMatchObject({
      passed: false,
      detail: 'still answering at the end, from before the last restart: 1',
    });
  });

  it('does not count a long request an old process was finishing as still answering at the end', () => {
    // PID 1 finishes one long-lane request at +2900, after the last restart (+1000) and in the second half of the time after it.
    const finishing: Feed = (mode, r) => {
      healthy(mode, r);
      if (mode === 'keepalive') {
        r.written();
        r.answer(1, '', 1900, t0 + 2900, false);
      }
    };
    const lane = (laneAnswers: number) => (r: RunRecord) => {
      r.longLane = {
        path: '/slow',
        connections: 1,
        written: laneAnswers,
        answered: laneAnswers,
        failed: 0,
        inFlightAtStop: 0,
        failuresByCause: {},
        latency: null,
        buckets: r.buckets.map((b) => ({
          ...b,
          pids: (b.start === t0 + 2900 ? { '1': laneAnswers } : {}) as Record<string, number>,
        })),
      };
    };
    expect(check(theirs(finishing, {}, lane(1)), 'only-newest-at-end')).toMatchObject({
      passed: true,
      detail: 'answering at the end: 2 (long requests a process was finishing from before are not counted)',
    });
    // Without the lane's own count, the same answer is PID 1 still serving.
    expect(check(theirs(finishing, {}, lane(0)), 'only-newest-at-end')).toMatchObject({
      passed: false,
      detail: expect.stringMatching(/^still answering at the end, from before the last restart: 1/),
    });
  });

  it('skips the process checks when no response named its process, saying what to pass', () => {
    const anonymous: Feed = (_m, r) => {
      for (let t = 0; t < 3000; t += 10) {
        r.written();
        r.answer(UNKNOWN_PID, '', 5, t0 + t);
      }
    };
    expect(check(theirs(anonymous), 'only-newest-at-end')).toMatchObject({
      skipped: true,
      skipReason: expect.stringMatching(
        /^no response carried header:x-worker; name what tells your processes apart with --identity/,
      ),
    });
    expect(check(theirs(healthy, { identities: '--identity none' }), 'new-pids-answered')).toMatchObject({
      skipped: true,
      skipReason: '--identity none',
    });
  });

  it('judges zombies in a container it started, and skips leftovers of a service it did not', () => {
    const zombie = theirs(
      healthy,
      {},
      (r) =>
        (r.leftovers = {
          serverProcesses: [{ pid: 7, state: 'S' }],
          zombies: 1,
          firstServerFds: null,
          lastServerFds: null,
          processesAtStart: 1,
        }),
    );
    expect(check(zombie, 'no-leftovers')).toMatchObject({
      name: 'no zombies left in the container',
      passed: false,
      detail: '1 zombies; 1 processes in the container at the end (docker top), 1 once it was ready',
    });
    expect(check(theirs(healthy, URL_SIGHT), 'no-leftovers')).toMatchObject({
      skipped: true,
      skipReason: 'the gate did not start the service (--url), so it cannot tell which processes are its',
    });
  });
});
