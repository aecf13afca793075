import { describe, expect, it } from 'vitest';
import { healthy, scenario, t0 } from '../../test/fixtures/scenario-result.js';
import { judge } from '../verdict.js';
import { junitXml, markdownSummary } from './ci-summary.js';
import { rateSpec } from './charts.js';
import { renderHtmlReport } from './html-report.js';
import { recordIn, schemaProblem, toResultDocument } from '../result/document.js';
import { switchovers } from './switchover.js';

/** A small run in both load modes: PID 1 replaced by PID 2 at t0+1s; `failures` adds failed requests. */
function doc(failures = 0) {
  const result = scenario(
    (mode, r) => {
      healthy(mode, r);
      if (mode === 'keepalive')
        for (let i = 0; i < failures; i++) {
          r.written();
          r.fail('connection_reset', t0 + 1200);
        }
    },
    { load: 'both' },
  );
  return toResultDocument(result, judge(result));
}

describe('switchovers', () => {
  it('derives the figures of each restart from its events', () => {
    expect(switchovers(doc())).toEqual([
      {
        index: 1,
        oldPid: 1,
        newPid: 2,
        exitCode: 0,
        outcome: 'ok',
        readyMs: 100,
        lastOldAnswerMs: 80,
        oldGoneMs: 190,
        latency: { count: 80, p50: 5, p99: 5, max: 5 },
        evidence: {
          index: 1,
          harness: { loopDelayMaxMs: 0, steal: null, machineBusy: null },
          kernel: {},
          oldListener: { steered: true, handedTo: null, reason: null, acceptedWhileDraining: 0 },
        },
      },
    ]);
  });
});

describe('renderHtmlReport', () => {
  it('draws five SVG charts that name the PIDs, and the verdict', async () => {
    const html = await renderHtmlReport(doc());
    expect(html.match(/<figure id="chart-[a-z-]+"><svg/g)).toHaveLength(5);
    const share = html.slice(html.indexOf('id="chart-pid-share"'), html.indexOf('id="chart-rate"'));
    expect(share).toContain('>1<');
    expect(share).toContain('>2<');
    expect(html).toContain('id="verdict">PASSED');
    expect(html).not.toMatch(/<script|https?:\/\/(?!vega\.github\.io|www\.w3\.org)/);
  });

  it('shows failures as failed, with their cause', async () => {
    const html = await renderHtmlReport(doc(7));
    expect(html).toContain('id="verdict">FAILED');
    expect(html).toContain('7 connection_reset');
    expect(html).toContain('connection_reset</text>');
  });

  it('shows each load mode on its own, and the switchover latency against the steady state', async () => {
    const html = await renderHtmlReport(doc(3));
    expect(html).toContain('<td>keep-alive</td><td>313</td><td>310</td><td>3 (3 connection_reset)</td>');
    expect(html).toContain('<td>new connection per request</td><td>310</td><td>310</td><td>0</td>');
    expect(html).toMatch(/against the warm-up's steady state: p99 5 ms, max 5 ms\. Budget: 1,000 ms/);
  });

  it('shows what each switchover saw: the old listener, the kernel counters, the harness', async () => {
    const document = doc();
    document.netCounters.restarts[0]!.delta.TCPMigrateReqSuccess = 4;
    document.harness = [
      { start: document.restarts[0]!.triggeredAt, loopDelayMaxMs: 420, harnessCpu: 1, machineBusy: 1, steal: 0.2 },
    ];
    const html = await renderHtmlReport(document);
    const table = html.slice(html.indexOf('id="evidence"'), html.indexOf('Per load mode'));
    expect(table).toContain(
      '<td>old listener steered before it closed</td><td>kernel: TCPMigrateReqSuccess +4</td><td>the harness itself was stalled (its event loop up to 420 ms late; CPUs 100% busy, 20% stolen)',
    );
    expect(html).toContain('id="chart-harness"');
  });
});

describe('rateSpec', () => {
  it('draws the last bucket, cut short by the end of the load, at the rate it really had', () => {
    const document = doc();
    const last = document.buckets.at(-1)!;
    // The load stopped halfway through the last bucket, which answered half as much.
    document.endedAt = last.start + document.bucketMs / 2;
    for (const pid of Object.keys(last.pids)) last.pids[pid] = last.pids[pid]! / 2;
    const rows = (rateSpec(document) as { layer: { data: { values: { rps: number }[] } }[] }).layer[0]!.data.values;
    expect(rows.at(-1)!.rps).toBe(rows.at(-2)!.rps);
  });
});

describe('result.json', () => {
  it('matches its JSON Schema, and the schema catches what is off', () => {
    const document = doc(1);
    expect(schemaProblem(JSON.parse(JSON.stringify(document)))).toBeNull();
    expect(schemaProblem({ ...document, parameters: { ...document.parameters, json: true } })).toBe(
      '/parameters must NOT have additional properties (json)',
    );
    expect(schemaProblem({ ...document, checks: [{ ...document.checks[0]!, id: 'made-up' }] })).toMatch(
      /^\/checks\/0\/id must be equal to one of the allowed values/,
    );
  });
});

describe('CI summaries', () => {
  it('writes a Markdown summary with the checks and restarts', () => {
    const md = markdownSummary(doc(2));
    expect(md).toContain('❌ failed');
    expect(md).toContain('| #1 | 1 → 2 | ok | 100 ms | 190 ms | 5 / 5 ms |');
  });

  it('writes a JUnit testcase per kind of a request mix, failed where the kind failed, as the check judged it', () => {
    const mixed = doc(2);
    const kind = {
      method: 'POST',
      path: '/submit',
      weight: 1,
      written: 12,
      answered: 10,
      failed: 2,
      inFlightAtStop: 0,
      failuresByCause: { connection_reset: 2 },
      latency: null,
      latencyTail: null,
    };
    mixed.requests = [
      { ...kind, name: 'GET /', method: 'GET', path: '/', failed: 0, written: 10, failuresByCause: {} },
      { ...kind, name: 'POST /submit' },
    ];
    // The view renders the checks; judged again here, as the gate judges a record before any view sees it.
    const xml = junitXml({ ...mixed, ...judge(recordIn(mixed)) });
    expect(xml).toContain(
      '<testcase classname="reuseport-lab.request-mix" name="every GET / answered, none failed (weight 1)"></testcase>',
    );
    expect(xml).toContain(
      '<testcase classname="reuseport-lab.request-mix" name="every POST /submit answered, none failed (weight 1)"><failure message="2 POST /submit failed, and POST is not idempotent: a client cannot tell whether it was applied, nor safely send it again. 10 answered, 2 failed (2 connection_reset)"/></testcase>',
    );
    // Without a judgement of them, the kinds are not the view's to judge: nothing is made up.
    expect(junitXml(mixed)).not.toContain('request-mix');
  });

  it('writes JUnit XML with a testcase per check and per restart', () => {
    const xml = junitXml(doc(2));
    expect(xml).toMatch(/<testsuites tests="12" failures="1"/);
    expect(xml).toContain(
      '<testcase classname="reuseport-lab.zero-failed-requests" name="zero failed requests"><failure message="2 of',
    );
    expect(xml).toContain('name="restart #1 1 -&gt; 2"');
    expect(xml).toContain('<failure message="2 of');
  });
});
