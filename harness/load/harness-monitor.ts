// The harness watching itself. A load client whose event loop is blocked
// times its own delay into every response it reads late, and a starved
// machine looks like a stalled server. Per time bucket (the recorder's),
// this keeps the harness's longest event-loop delay, the CPU it used, and
// what the machine's CPUs did (busy, and stolen by the hypervisor where
// /proc/stat says). The verdict shows them beside a failed latency or stall
// check; it never passes a check because of them.
import { readFileSync } from 'node:fs';

/** One bucket of the harness's own health. */
export interface HarnessBucket {
  start: number;
  /** The longest the harness's event loop was late in this bucket, ms. */
  loopDelayMaxMs: number;
  /** CPU time the harness process used, as a share of one core. */
  harnessCpu: number;
  /** Share of the machine's CPU time that was busy (not idle or waiting for I/O); null without /proc/stat. */
  machineBusy: number | null;
  /** Share stolen by the hypervisor; null without /proc/stat. */
  steal: number | null;
}

/** How often the event loop is sampled: a blocked loop shows as a late sample. */
const SAMPLE_MS = 20;

interface CpuTimes {
  total: number;
  idle: number;
  steal: number;
}

/** The first line of /proc/stat: user nice system idle iowait irq softirq steal ... (clock ticks). */
export function parseCpuLine(stat: string): CpuTimes | null {
  const line = stat.split('\n', 1)[0] ?? '';
  if (!line.startsWith('cpu ')) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 8 || v.some((n) => !Number.isFinite(n))) return null;
  // guest and guest_nice (fields 9, 10) are already counted in user and nice.
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: v[3]! + v[4]!, steal: v[7]! };
}

function readCpu(): CpuTimes | null {
  try {
    return parseCpuLine(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/** Samples the harness's event loop and the machine's CPUs into buckets aligned with the load's. */
export class HarnessMonitor {
  private readonly buckets: HarnessBucket[] = [];
  private sampler?: NodeJS.Timeout;
  private ticker?: NodeJS.Timeout;
  private lastSample = 0;
  private cpu: CpuTimes | null = null;
  private usage: NodeJS.CpuUsage = { user: 0, system: 0 };
  private usageAt = 0;

  constructor(
    private readonly bucketMs: number,
    private readonly startedAt: number,
  ) {}

  start(): void {
    this.lastSample = performance.now();
    this.usage = process.cpuUsage();
    this.usageAt = this.lastSample;
    this.cpu = readCpu();
    this.sampler = setInterval(() => {
      const now = performance.now();
      const late = Math.max(0, now - this.lastSample - SAMPLE_MS);
      this.lastSample = now;
      // The delay began when the sample was due: it belongs to that bucket.
      const bucket = this.bucketAt(Date.now() - late);
      if (bucket) bucket.loopDelayMaxMs = Math.max(bucket.loopDelayMaxMs, Math.round(late));
    }, SAMPLE_MS);
    this.ticker = setInterval(() => this.closeBucket(), this.bucketMs);
    this.sampler.unref();
    this.ticker.unref();
  }

  stop(): void {
    clearInterval(this.sampler);
    clearInterval(this.ticker);
    this.closeBucket();
  }

  snapshot(): HarnessBucket[] {
    return this.buckets.map((b) => ({ ...b }));
  }

  /** Fills in the CPU figures since the last tick, in the bucket holding the middle of that time. */
  private closeBucket(): void {
    const now = performance.now();
    const bucket = this.bucketAt(Date.now() - (now - this.usageAt) / 2);
    if (!bucket) return;
    const used = process.cpuUsage(this.usage);
    const wall = (now - this.usageAt) * 1000;
    this.usage = process.cpuUsage();
    this.usageAt = now;
    if (wall > 0) bucket.harnessCpu = round((used.user + used.system) / wall);
    const cpu = readCpu();
    if (cpu && this.cpu && cpu.total > this.cpu.total) {
      const total = cpu.total - this.cpu.total;
      bucket.machineBusy = round(1 - (cpu.idle - this.cpu.idle) / total);
      bucket.steal = round((cpu.steal - this.cpu.steal) / total);
    }
    this.cpu = cpu;
  }

  private bucketAt(at: number): HarnessBucket | undefined {
    const index = Math.floor((at - this.startedAt) / this.bucketMs);
    if (index < 0) return undefined;
    while (this.buckets.length <= index) {
      this.buckets.push({
        start: this.startedAt + this.buckets.length * this.bucketMs,
        loopDelayMaxMs: 0,
        harnessCpu: 0,
        machineBusy: null,
        steal: null,
      });
    }
    return this.buckets[index];
  }
}

const round = (share: number) => Math.round(Math.min(1, Math.max(0, share)) * 1000) / 1000;

/** The harness's worst moment in [from, to): its longest loop delay and the machine's highest steal and busy share. */
export function harnessIn(
  buckets: readonly HarnessBucket[],
  bucketMs: number,
  from: number,
  to: number,
): { loopDelayMaxMs: number; steal: number | null; machineBusy: number | null } {
  const inside = buckets.filter((b) => b.start < to && b.start + bucketMs > from);
  const max = (values: (number | null)[]) =>
    values.some((v) => v !== null) ? Math.max(...values.filter((v): v is number => v !== null)) : null;
  return {
    loopDelayMaxMs: Math.max(0, ...inside.map((b) => b.loopDelayMaxMs)),
    steal: max(inside.map((b) => b.steal)),
    machineBusy: max(inside.map((b) => b.machineBusy)),
  };
}
