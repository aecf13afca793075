// The HTML report of a real run, opened in headless Chromium: the charts are
// there, drawn, and name the run's PIDs. In CI a missing Chromium is a
// failure (.ci/run installs it), never a skip.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnPath, isCI } from '../../test/ci.js';
import { explain, runPoc } from '../../test/poc-cli.js';
import { cleanup, SCRIPTS } from '../../test/processes.js';

// The same names, looked up on PATH the same way, as scripts/report-screenshot.sh.
const chromium = findOnPath(['chromium', 'chromium-browser', 'google-chrome']);
const mustRun = Boolean(chromium) || isCI();
if (!mustRun) console.warn('report-browser: no Chromium found; skipped outside CI (apt-get install chromium)');

afterAll(cleanup);

describe.runIf(mustRun)('report.html in headless Chromium', () => {
  it('shows the five charts with the PIDs of a real run', async () => {
    expect(chromium, 'Chromium must be installed for this test (apt-get install chromium)').toBeDefined();
    const run = await runPoc([
      '--runtime',
      'local',
      '--restarts',
      '2',
      '--warmup',
      '1',
      '--interval',
      '1.5',
      '--cooldown',
      '1',
      '--load',
      'keepalive',
    ]);
    expect(run.code, explain(run)).toBe(0);
    const reportDir = run.reportDir;
    const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
    try {
      const flags = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
      ];
      // --dump-dom prints the DOM after the page ran: what the browser really built.
      const dom = execFileSync(chromium!, [...flags, '--dump-dom', `file://${join(reportDir, 'report.html')}`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 60_000,
      });
      for (const id of ['chart-pid-share', 'chart-rate', 'chart-latency', 'chart-harness', 'chart-failures']) {
        expect(dom, id).toMatch(new RegExp(`<figure id="${id}"><svg[^]*?<path`));
      }
      const share = dom.slice(dom.indexOf('id="chart-pid-share"'), dom.indexOf('id="chart-rate"'));
      for (const { pid } of run.result!.pids) expect(share).toContain(`>${pid}<`);
      expect(dom).toContain('id="verdict">PASSED');

      const png = join(reportDir, 'report.png');
      const shot = spawnSync(join(SCRIPTS, 'report-screenshot.sh'), [join(reportDir, 'report.html'), png], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(shot.status, shot.stderr).toBe(0);
      expect(statSync(png).size).toBeGreaterThan(20_000);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
