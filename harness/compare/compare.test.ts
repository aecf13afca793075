// npm run compare: the table from result documents (pure), and one real run
// of every strategy in Docker (in CI a missing engine is a failure).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, engineAnswers } from '../runtime/docker/engine.js';
import { STRATEGY_NAMES } from '../strategies/index.js';
import { judge } from '../verdict.js';
import { toResultDocument } from '../result/document.js';
import { isCI } from '../../test/ci.js';
import { healthy, scenario } from '../../test/fixtures/scenario-result.js';
import { ROOT, tempDir } from '../../test/processes.js';
import { compareMarkdown, RESULT_HEADERS } from './render.js';
import { compareRows, operationsRows, spread, switchoverTimes } from './rows.js';

const docOf = (result: ReturnType<typeof scenario>) => toResultDocument(result, judge(result));
const facts = {
  command: 'npm run compare',
  restarts: 1,
  intervalSeconds: 3,
  load: 'test load',
  runtime: 'test',
  machine: 'test',
  startedAt: 'now',
  durationSeconds: 1,
};

describe('the comparison table', () => {
  it('takes the median and range of a spread', () => {
    expect(spread([])).toBeNull();
    expect(spread([300, 100, 200])).toEqual({ median: 200, min: 100, max: 300, n: 3 });
    expect(spread([100, 200])).toMatchObject({ median: 150 });
  });

  it('times a switchover from the trigger until only the new PID answers', () => {
    // PID 1 answers until +1190, PID 2 from +1100; the restart is triggered at +1000.
    expect(switchoverTimes(docOf(scenario(healthy)))).toEqual([190]);
  });

  it("has a row per strategy and load mode, with each mode's own failures and switchover", () => {
    const lossy = scenario(
      (mode, r) => {
        healthy(mode, r);
        if (mode === 'churn') {
          r.written();
          r.fail('connection_reset', 1_001_150);
        }
      },
      { load: 'both' },
    );
    const rows = compareRows([
      { strategy: 'reuseport', doc: docOf(scenario(healthy, { load: 'both' })) },
      { strategy: 'naive', doc: docOf(lossy) },
    ]);
    expect(rows.map((r) => `${r.strategy}/${r.mode}`)).toEqual([
      'reuseport/keepalive',
      'reuseport/churn',
      'naive/keepalive',
      'naive/churn',
    ]);
    expect(rows.map((r) => r.failed)).toEqual([0, 0, 0, 1]);
    expect(rows[3]).toMatchObject({
      passed: false,
      failuresByCause: { connection_reset: 1 },
      failedChecks: expect.arrayContaining(['zero-failed-requests']),
    });
    expect(rows[0]!.switchover).toMatchObject({ max: 5 });
    const markdown = compareMarkdown(rows, operationsRows(['reuseport', 'naive'], ROOT), facts);
    expect(markdown).toContain(`| ${RESULT_HEADERS.join(' | ')} |`);
    expect(markdown).toContain('| naive | new connection per request | 1 (1 connection_reset) |');
  });

  it('counts the lines of the files each strategy takes', () => {
    const [row] = operationsRows(['systemd-socket'], ROOT);
    expect(row).toMatchObject({ strategy: 'systemd-socket', killer: 'systemd (TimeoutStopSec)', files: 6 });
    expect(row!.lines).toBeGreaterThan(100);
  });
});

const mustRun = (await engineAnswers(connect())) || isCI();
if (!mustRun)
  console.warn('compare: no Docker engine answers; skipped outside CI (run scripts/setup/docker-engine.sh)');

describe.runIf(mustRun)('npm run compare in Docker', () => {
  it('runs every strategy one after the other and writes one table with a row per strategy and load mode', async () => {
    const dir = tempDir('reuseport-lab-compare-');
    const args = [
      'dist/harness/cli.js',
      'compare',
      '--restarts',
      '1',
      '--interval',
      '2',
      '--image',
      'reuseport-lab:test',
      '--report-dir',
      dir,
    ];
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.stderr.on('data', (chunk) => (err += chunk));
        child.on('close', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
      },
    );
    // The control fails by design, so the whole table exits 1 and names what did not pass (--no-fail: 0).
    expect(code, stderr.slice(-500)).toBe(1);
    const table = JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')) as {
      rows: { strategy: string; mode: string; failed: number }[];
    };
    expect(stderr).toMatch(
      /^reuseport-lab compare: not passed: (\S+, )*naive(, \S+)* \(--no-fail exits 0 for a table\)$/m,
    );
    expect(table.rows.map((r) => `${r.strategy}/${r.mode}`)).toEqual(
      STRATEGY_NAMES.flatMap((s) => [`${s}/keepalive`, `${s}/churn`]),
    );
    // The control loses requests; that it shows up here is what makes the table worth reading.
    expect(table.rows.filter((r) => r.strategy === 'naive').reduce((sum, r) => sum + r.failed, 0)).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'compare.md'), 'utf8')).toContain('| systemd-socket-bluegreen | keep-alive |');
    expect((readFileSync(join(dir, 'compare.html'), 'utf8').match(/<svg/g) ?? []).length).toBe(
      2 * STRATEGY_NAMES.length,
    );
    expect(stdout).toContain(`[${STRATEGY_NAMES.length}/${STRATEGY_NAMES.length}] systemd-socket-bluegreen...`);
  }, 900_000);

  it('refuses a --rate that is no rate, and so does the gallery, in one line', () => {
    for (const command of ['compare', 'gallery']) {
      const run = spawnSync(process.execPath, ['dist/harness/cli.js', command, '--rate', '0'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect([run.status, run.stderr.trim()]).toEqual([
        2,
        `reuseport-lab ${command}: --rate "0" is not valid: use a number from 1 to 1000000`,
      ]);
    }
  });

  it('refuses an unknown strategy in one line, before running anything', async () => {
    const child = spawn(process.execPath, ['dist/harness/cli.js', 'compare', '--strategies', 'reuseport,yolo'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (chunk) => (err += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(err.trim()).toBe(
      "reuseport-lab compare: --strategies: unknown 'yolo'; choose from reuseport, handoff, naive, systemd-bluegreen, systemd-socket, systemd-socket-bluegreen, swarm-start-first, swarm-stop-first",
    );
  });
});
