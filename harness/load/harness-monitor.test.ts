import { describe, expect, it } from 'vitest';
import { harnessIn, HarnessMonitor, parseCpuLine } from './harness-monitor.js';

describe('harness monitor', () => {
  it('reads busy and stolen time from the first line of /proc/stat', () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    expect(parseCpuLine('cpu  100 0 50 800 20 0 10 20 5 0\ncpu0 1 2 3')).toEqual({ total: 1000, idle: 820, steal: 20 });
    expect(parseCpuLine('intr 1 2 3')).toBeNull();
  });

  it('records a blocked event loop in the bucket where the block began', async () => {
    const startedAt = Date.now();
    const monitor = new HarnessMonitor(100, startedAt);
    monitor.start();
    await new Promise((r) => setTimeout(r, 150));
    const blockedAt = Date.now();
    const usage = process.cpuUsage();
    while (Date.now() - blockedAt < 250); // the harness's own stall
    // The share of a core the stall got: less than all of one when other test files share the machine.
    const used = process.cpuUsage(usage);
    const stallShare = (used.user + used.system) / 1000 / (Date.now() - blockedAt);
    await new Promise((r) => setTimeout(r, 150));
    monitor.stop();
    const buckets = monitor.snapshot();
    const worst = buckets.reduce((a, b) => (b.loopDelayMaxMs > a.loopDelayMaxMs ? b : a));
    expect(worst.loopDelayMaxMs).toBeGreaterThanOrEqual(200);
    expect(Math.abs(worst.start - (blockedAt - ((blockedAt - startedAt) % 100)))).toBeLessThanOrEqual(100);
    expect(harnessIn(buckets, 100, blockedAt, blockedAt + 250).loopDelayMaxMs).toBe(worst.loopDelayMaxMs);
    // The tick after the stall spreads its CPU over the stall and up to a bucket more: at least half of it shows.
    expect(Math.max(...buckets.map((b) => b.harnessCpu))).toBeGreaterThan(stallShare / 2);
    expect(stallShare).toBeGreaterThan(0.1);
  });
});
