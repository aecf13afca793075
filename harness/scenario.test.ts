// runScenario on its own: a fake runtime whose "servers" are PIDs, and fake
// load clients that answer from the PID serving at the moment. No process,
// socket or container: what is tested is the stage itself (warm-up, restarts
// at an interval, windows, fault's long request, early ends).
import { describe, expect, it } from 'vitest';
import { SetupError } from './errors.js';
import type { LoadClients } from './load/clients.js';
import type { LoadSink } from './load/recorder.js';
import {
  restartRecord,
  type RestartRecord,
  type RestartRequest,
  type Runtime,
  SEES_ALL,
  type Started,
} from './runtime/runtime.js';
import { runScenario, type ScenarioOptions } from './scenario.js';
import { recordOf } from './run-record.js';

/** PIDs 100, 101, ...: each restart starts the next and reports the steps restart.sh would. */
class FakeRuntime implements Runtime {
  readonly kind = 'local';
  readonly description = 'fake';
  readonly facts = {};
  readonly observes = SEES_ALL;
  serving = 100;
  closed = false;
  constructor(private readonly hang = false) {}
  async start(): Promise<Started> {
    return {
      target: { host: '127.0.0.1', port: 1, pid: this.serving },
      restart: (request) => this.restart(request),
      leftovers: async () => null,
      netCounters: () => 'a fake has no kernel',
      serverLog: async () => '',
    };
  }
  async restart({ index, version }: RestartRequest): Promise<RestartRecord> {
    const triggeredAt = Date.now();
    const old = this.serving;
    const next = old + 1;
    const line = (event: string, fields: Record<string, unknown>) =>
      JSON.stringify({ ts: Date.now(), event, ...fields });
    const out = [
      line('restart_started', { old_pid: old }),
      line('new_started', { pid: next }),
      line('new_ready', { pid: next }),
    ];
    this.serving = next;
    out.push(line('old_signalled', { pid: old }), line('old_exited', { pid: old }));
    return restartRecord(
      { index, strategy: 'fake', version, triggeredAt },
      out.join('\n'),
      '',
      this.hang ? 124 : 0,
      this.hang ? `restart #${index} did not finish within 1 s` : null,
    );
  }
  async close() {
    this.closed = true;
  }
}

/** What a full-speed mode of the fake answered, and over how long (ms), per mode. */
type FullSpeed = Map<string, { answered: number; ms: number }>;

/** Every 2 ms a request, answered at once by whoever serves. */
function fakeClients(runtime: FakeRuntime, started: string[], fullSpeed: FullSpeed = new Map()): LoadClients {
  const load = (name: string) => (_options: unknown, sink: LoadSink) => {
    started.push(name);
    const timer = setInterval(() => (sink.written(), sink.answer(runtime.serving, `v${runtime.serving - 99}`, 1)), 2);
    return { stop: async () => clearInterval(timer) };
  };
  return {
    keepalive: load('keepalive'),
    churn: load('churn'),
    open: (openOptions, sink) => {
      const rate = openOptions.ratePerSecond;
      if (typeof rate === 'number') return load(`open ${openOptions.mode} ${rate}/s`)(openOptions, sink);
      // The calibration: a full-speed mode answering 1000 per second (one every ms).
      started.push(`full speed ${openOptions.mode} × ${rate.concurrency}`);
      const from = Date.now();
      let answered = 0;
      const timer = setInterval(() => {
        sink.written();
        sink.answer(runtime.serving, `v${runtime.serving - 99}`, 1);
        answered++;
      }, 1);
      return {
        stop: async () => {
          clearInterval(timer);
          fullSpeed.set(openOptions.mode, { answered, ms: Date.now() - from });
        },
      };
    },
    longRequest: () => ({
      sent: Promise.resolve(),
      outcome: Promise.resolve({ ok: true, pid: runtime.serving, version: 'v1', latencyMs: 30 }),
    }),
    longLane: (lane, sink) => {
      started.push(`long ${lane.path} × ${lane.connections}`);
      // One long request at a time, 40 ms each; one of them cut.
      let sent = 0;
      const timer = setInterval(() => {
        sink.written();
        if (++sent === 3) sink.fail('cut_in_flight');
        else sink.answer(runtime.serving, 'v1', 400);
      }, 40);
      return { stop: async () => clearInterval(timer) };
    },
    streamLane: (kind, lane) => {
      started.push(`${kind} ${lane.path} × ${lane.connections}`);
      return {
        stop: async () => {},
        record: () => ({
          connections: lane.connections,
          events: 10,
          unnumbered: 0,
          lostInStream: 0,
          duplicatedInStream: 0,
          breaks: [],
        }),
      };
    },
  };
}

const options: ScenarioOptions = {
  strategy: 'fake',
  load: 'both',
  loadModel: 'closed',
  rate: null,
  loadShare: 0.5,
  maxConnections: 10,
  connections: 1,
  redactHeaders: [],
  restarts: 2,
  intervalMs: 150,
  warmupMs: 150,
  cooldownMs: 100,
  bucketMs: 50,
  requestTimeoutSeconds: 1,
  latencyBudgetMs: 500,
  stallFloor: 0.05,
  requests: null,
  longLane: null,
  stream: null,
};

describe('runScenario', () => {
  it('drives each load mode, restarts at the interval, and records every request and restart', async () => {
    const runtime = new FakeRuntime();
    const started: string[] = [];
    const result = await runScenario(runtime, fakeClients(runtime, started), options);
    expect(started).toEqual(['keepalive', 'churn']);
    expect(result.restarts.map((r) => [r.index, r.oldPid, r.newPid, r.version])).toEqual([
      [1, 100, 101, 'v2'],
      [2, 101, 102, 'v3'],
    ]);
    expect(result.restarts[1]!.triggeredAt - result.restarts[0]!.triggeredAt).toBeGreaterThanOrEqual(
      options.intervalMs - 5,
    );
    expect(result.load.pids.map((p) => p.pid)).toEqual([100, 101, 102]);
    expect(result.load.written).toBe(result.load.answered);
    expect(result.modes.map((m) => m.load.answered).reduce((a, b) => a + b)).toBe(result.load.answered);
    expect(result.switchovers.map((w) => w.index)).toEqual([1, 2]);
    expect(result.netCounters.error).toBe('a fake has no kernel');
    expect(result.interrupted).toBeUndefined();
  });

  it('open model: measures each mode alone at full speed, then drives the share of it split over the modes, on a schedule', async () => {
    const runtime = new FakeRuntime();
    const started: string[] = [];
    const rates: unknown[] = [];
    const fullSpeed: FullSpeed = new Map();
    const result = await runScenario(
      runtime,
      fakeClients(runtime, started, fullSpeed),
      { ...options, loadModel: 'open', loadShare: 0.5, connections: 7 },
      { onRates: (open) => rates.push(open) },
    );
    // Timers of 1 ms fire a little late, and later on a busy machine: the capacity is what the fake
    // really answered per second at full speed (its median slice, against its mean over the whole time).
    expect(started.slice(0, 2)).toEqual(['full speed keepalive × 7', 'full speed churn × 7']);
    const capacity = result.calibration!.capacity;
    for (const mode of ['keepalive', 'churn'] as const) {
      const { answered, ms } = fullSpeed.get(mode)!;
      const mean = (answered / ms) * 1000;
      expect(mean).toBeGreaterThan(50);
      expect(capacity[mode]).toBeGreaterThan(mean * 0.5);
      expect(capacity[mode]).toBeLessThan(mean * 2);
    }
    expect(result.calibration).toMatchObject({ share: 0.5, measuredMs: 1000 });
    // 50% of each mode's capacity, split over the two modes.
    const rate = (mode: 'keepalive' | 'churn') => Math.round((capacity[mode]! * 0.5) / 2);
    expect(started.slice(2)).toEqual([`open keepalive ${rate('keepalive')}/s`, `open churn ${rate('churn')}/s`]);
    expect(rates).toEqual([
      {
        rates: { keepalive: rate('keepalive'), churn: rate('churn') },
        maxConnections: 10,
        calibration: result.calibration,
      },
    ]);
    expect(result.modes.map((m) => m.schedule?.ratePerSecond)).toEqual([rate('keepalive'), rate('churn')]);
  });

  it('open model with --rate: no calibration, every mode at that rate', async () => {
    const runtime = new FakeRuntime();
    const started: string[] = [];
    const result = await runScenario(runtime, fakeClients(runtime, started), {
      ...options,
      loadModel: 'open',
      rate: 123,
    });
    expect(started).toEqual(['open keepalive 123/s', 'open churn 123/s']);
    expect(result.calibration).toBeNull();
  });

  it('writes no credential into the record: secret headers, and those named with --redact-header, are <redacted>', async () => {
    const runtime = new FakeRuntime();
    const headers = {
      Authorization: 'Bearer s3cret',
      cookie: 'session=s3cret',
      'X-Tenant': 's3cret',
      Accept: 'text/plain',
    };
    const requests = [{ name: 'GET /', method: 'GET', path: '/', headers, body: null, weight: 1 }];
    const result = await runScenario(runtime, fakeClients(runtime, []), {
      ...options,
      requests,
      redactHeaders: ['x-tenant'],
    });
    const record = recordOf(result);
    expect(record.parameters.requests![0]!.headers).toEqual({
      Authorization: '<redacted>',
      cookie: '<redacted>',
      'X-Tenant': '<redacted>',
      Accept: 'text/plain',
    });
    expect(JSON.stringify(record)).not.toContain('s3cret');
  });

  it('ends the run at a hung restart and says so', async () => {
    const runtime = new FakeRuntime(true);
    const result = await runScenario(runtime, fakeClients(runtime, []), options);
    expect(result.restarts).toHaveLength(1);
    expect(result.interrupted?.reason).toBe('restart #1 did not finish within 1 s');
  });

  it('stops the load and throws a usage error when the warm-up says the run cannot be judged', async () => {
    const runtime = new FakeRuntime();
    let stopped = 0;
    const clients = fakeClients(runtime, []);
    const counting: LoadClients = {
      ...clients,
      keepalive: (o, sink) => {
        const load = clients.keepalive(o, sink);
        return { stop: async () => (stopped++, load.stop()) };
      },
    };
    await expect(runScenario(runtime, counting, options, { afterWarmup: () => 'nothing to judge' })).rejects.toThrow(
      SetupError,
    );
    expect(stopped).toBe(1);
  });

  it('stops early when aborted, and keeps what was measured', async () => {
    const runtime = new FakeRuntime();
    const abort = new AbortController();
    setTimeout(() => abort.abort('interrupted by SIGINT'), 60);
    const result = await runScenario(runtime, fakeClients(runtime, []), options, { signal: abort.signal });
    expect(result.interrupted?.reason).toBe('interrupted by SIGINT');
    expect(result.restarts).toEqual([]);
    expect(result.load.answered).toBeGreaterThan(0);
  });

  it('runs a long lane beside the load modes, counted in the whole run and on its own', async () => {
    const runtime = new FakeRuntime();
    const started: string[] = [];
    const result = await runScenario(runtime, fakeClients(runtime, started), {
      ...options,
      longLane: { path: '/slow?ms=40', connections: 2 },
    });
    expect(started).toEqual(['keepalive', 'churn', 'long /slow?ms=40 × 2']);
    const lane = result.longLane!;
    expect(lane).toMatchObject({
      path: '/slow?ms=40',
      connections: 2,
      load: { failed: 1, failuresByCause: { cut_in_flight: 1 } },
    });
    expect(lane.load.answered).toBeGreaterThan(3);
    expect(result.load.failuresByCause).toEqual({ cut_in_flight: 1 });
    // Long on purpose in the whole run: not put to the latency budget, not in its latency figures; the lane's own has them.
    expect(result.load.tail.responses).toEqual([]);
    expect(Math.max(...result.load.buckets.map((b) => b.latency?.max ?? 0))).toBeLessThan(400);
    expect(lane.latency).toMatchObject({ max: 400 });
    expect(result.modes.map((m) => m.load.answered).reduce((a, b) => a + b) + lane.load.answered).toBe(
      result.load.answered,
    );
  });

  it("sends a fault's long request across restart #1 and records what became of it", async () => {
    const runtime = new FakeRuntime();
    const result = await runScenario(runtime, fakeClients(runtime, []), { ...options, fault: 'slow-request' });
    expect(result.fault).toMatchObject({
      name: 'slow-request',
      restartIndex: 1,
      slowRequest: { path: expect.stringMatching(/^\/slow\?ms=\d+$/), outcome: { ok: true, pid: 100 } },
    });
  });
});
