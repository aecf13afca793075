// A saved run judged again: its record is all the checks read.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../../test/processes.js';
import { SetupError } from '../errors.js';
import { readResultDocument, type ResultDocument } from '../result/document.js';
import { judgeAgain } from './report.js';

const recorded = (name: string) => readResultDocument(join(ROOT, 'test/fixtures/results', name, 'result.json'));
/** A schema 5 run of the stall-after-ready fault (npm run poc -- --restarts 2 --interval 2 --warmup 1.5 --cooldown 1.5 --fault stall-after-ready): 100 responses over 1000 ms, none over 3000 ms. */
const withTail = () => readResultDocument(join(ROOT, 'test/fixtures/latency-tail/fault-stall-after-ready.json'));
const failing = (doc: ResultDocument) => doc.checks.filter((c) => !c.passed).map((c) => c.id);

describe('report, judging again', () => {
  it('gives the same verdict at the floor the run was judged with', () => {
    const doc = recorded('fault-stall-after-ready');
    expect(judgeAgain(doc, { stallFloor: String(doc.parameters.stallFloor) }).checks).toEqual(doc.checks);
  });

  it('changes only what the new floor changes: a floor of 0 lets the stall pass, and the slow responses still fail', () => {
    const doc = recorded('fault-stall-after-ready');
    expect(failing(doc)).toContain('no-stall');
    const again = judgeAgain(doc, { stallFloor: '0' });
    expect(again.parameters.stallFloor).toBe(0);
    expect(failing(again)).toEqual(failing(doc).filter((id) => id !== 'no-stall'));
    expect(again.totalRequests).toBe(doc.totalRequests);
  });

  it('refuses a floor out of range in one line', () => {
    expect(() => judgeAgain(recorded('poc-reuseport'), { stallFloor: '2' })).toThrow(
      '--stall-floor "2" is not valid: use a number from 0 to 1',
    );
  });

  it('judges a run at another latency budget from its tail: the slow responses pass at 3500 ms, the stall still fails', () => {
    const doc = withTail();
    expect(failing(doc)).toEqual(['zero-failed-requests', 'latency-budget', 'no-stall']);
    expect(doc.failuresByCause).toEqual({ slow: 100 });
    const again = judgeAgain(doc, { latencyBudget: '3500' });
    expect(again.parameters.latencyBudgetMs).toBe(3500);
    expect(failing(again)).toEqual(['no-stall']);
    expect(again).toMatchObject({ totalRequests: doc.totalRequests, failedRequests: 0, failuresByCause: {} });
    expect(judgeAgain(again, { latencyBudget: '1000' })).toEqual(doc);
  });

  it('refuses a latency budget the record cannot judge, in one line', () => {
    expect(() => judgeAgain(withTail(), { latencyBudget: '99' })).toThrow(
      '--latency-budget 99 ms is below 100 ms, the latency above which this run kept every response exactly; use 100 or more',
    );
    expect(() => judgeAgain(recorded('poc-reuseport'), { latencyBudget: '2000' })).toThrow(
      'this result.json was written before runs kept their slowest latencies exactly (schema 5); it can be judged only at its own latency budget, 1000 ms',
    );
    expect(judgeAgain(recorded('poc-reuseport'), { latencyBudget: '1000' }).checks).toEqual(
      recorded('poc-reuseport').checks,
    );
  });
});

describe('report, reading what is not a result', () => {
  it('says in one line what is wrong with a file that only claims a version, or holds a time no date can hold', () => {
    const dir = tempDir();
    const bare = join(dir, 'bare.json');
    writeFileSync(bare, '{"schemaVersion":3}');
    expect(() => readResultDocument(bare)).toThrow(SetupError);
    expect(() => readResultDocument(bare)).toThrow(
      /bare\.json says schemaVersion 3 but is not a result\.json of that version .*; pass the result\.json of a run$/,
    );
    const doc = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/results/poc-reuseport/result.json'), 'utf8'));
    const future = join(dir, 'future.json');
    writeFileSync(future, JSON.stringify({ ...doc, startedAt: 1e300 }));
    expect(() => readResultDocument(future)).toThrow(
      /future\.json is not a valid result\.json: \/startedAt must be <= 8640000000000000/,
    );
  });
});

describe('report, rendering a run whose target wrote everything it could (test/fixtures/hostile)', () => {
  const cli = join(ROOT, 'dist/harness/cli.js');
  const hostile = join(ROOT, 'test/fixtures/hostile/result.json');

  it.each([
    ['as recorded', []],
    ['judged again, the restarts checks read from its record', ['--latency-budget', '1000']],
  ])('%s: junit.xml parses, the terminal shows no escape sequence, summary.md no HTML, link or image', (_how, args) => {
    const out = tempDir();
    const run = spawnSync(process.execPath, [cli, 'report', hostile, '--out', out, ...args], {
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0' },
      timeout: 60_000,
    });
    // Rendered only, the job was done (exit 0) and the verdict is one line; judged again, the exit code is the new verdict's.
    expect(run.status, run.stderr).toBe(args.length ? 1 : 0);
    expect(run.stdout).toMatch(/^FAILED: [\d,]+ of [\d,]+ requests failed; failing checks: /m);
    expect(run.stdout + run.stderr).not.toMatch(/\x1b|\x07|\r|\x00/);
    // An XML parser of another ecosystem reads it (python3's, which Debian has): well-formed, with the target's words escaped.
    const parsed = spawnSync(
      'python3',
      [
        '-c',
        'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); print(len(d.getElementsByTagName("testcase")))',
        join(out, 'junit.xml'),
      ],
      { encoding: 'utf8' },
    );
    expect(parsed.status, parsed.stderr).toBe(0);
    expect(Number(parsed.stdout)).toBeGreaterThan(5);
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect(junit).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).not.toMatch(/<[a-z/!]/i);
    expect(md).not.toMatch(/!\[i\]\(|[^\\]\[l\]\(/);
    expect(md).not.toMatch(/\x1b|\x07|\r/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('colour', () => {
  const cli = join(ROOT, 'dist/harness/cli.js');
  const result = join(ROOT, 'test/fixtures/results/poc-reuseport/result.json');
  const render = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [cli, 'report', result, '--out', tempDir(), ...args], {
      encoding: 'utf8',
      // The machine's own NO_COLOR, if any, is not this test's.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NO_COLOR')), ...env },
      timeout: 60_000,
    }).stdout;

  it('is on when forced, and off with NO_COLOR or --no-color, which every command takes', () => {
    expect(render([], { FORCE_COLOR: '1' })).toMatch(/\x1b\[/);
    expect(render([], { FORCE_COLOR: '1', NO_COLOR: '1' })).not.toMatch(/\x1b\[/);
    expect(render(['--no-color'], { FORCE_COLOR: '1' })).not.toMatch(/\x1b\[/);
  });
});
