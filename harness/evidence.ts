// What else was seen in a switchover, beside what the load clients measured:
// the harness's own health (was the measurement stalled?), the kernel's
// counters in the servers' namespace (what did the kernel drop, migrate or
// reset?), and how the old server's listener closed. A failed check names
// these so that a reader can tell a server that stalled from a machine that
// starved the harness; the check fails either way.
import { harnessIn, type HarnessBucket } from './load/harness-monitor.js';
import { type Bucket, bucketIndex, type LoadSnapshot } from './load/recorder.js';
import { moved, type NetCounterRecord, type NetCounters } from './runtime/net-counters.js';
import type { ListenerClose, ServerEnding } from './runtime/server-log.js';
import { wholePercent as pct } from './format.js';

/** What evidence is read from: a ScenarioResult (with its load's bucketMs) and result.json alike. */
export interface EvidenceSource {
  bucketMs: number;
  switchovers: readonly { index: number; from: number; to: number }[];
  restarts: readonly { index: number; oldPid: number | null }[];
  harness: readonly HarnessBucket[];
  netCounters: NetCounterRecord;
  servers: readonly ServerEnding[] | null;
}

/**
 * The harness's event loop this late in a window means the harness itself
 * was stalled there: what it timed includes its own delay. Normal runs on 2
 * cores stay in the tens of ms.
 */
export const HARNESS_STALL_MS = 100;

export interface SwitchoverEvidence {
  index: number;
  harness: { loopDelayMaxMs: number; steal: number | null; machineBusy: number | null };
  /** The counters that moved in this restart's span, or why there are none to show. */
  kernel: Partial<NetCounters> | { unavailable: string };
  /** How the old server's listener closed; null when the log says nothing of it. */
  oldListener: ListenerClose | null;
}

/** The evidence of restart `index`, over its switchover window. */
export function evidenceOf(result: EvidenceSource, index: number): SwitchoverEvidence {
  const window = result.switchovers.find((w) => w.index === index);
  const harness = window
    ? harnessIn(result.harness, result.bucketMs, window.from, window.to)
    : { loopDelayMaxMs: 0, steal: null, machineBusy: null };
  const counters = result.netCounters;
  const delta = counters.restarts.find((r) => r.index === index)?.delta;
  const kernel = delta ? moved(delta) : { unavailable: counters.error ?? 'not read for this restart' };
  const oldPid = result.restarts.find((r) => r.index === index)?.oldPid;
  const oldListener = result.servers?.find((s) => s.pid === oldPid)?.listenerClose ?? null;
  return { index, harness, kernel, oldListener };
}

/** The harness's health in words. */
export function harnessText(h: SwitchoverEvidence['harness']): string {
  const machine = [
    h.machineBusy !== null ? `CPUs ${pct(h.machineBusy)} busy` : '',
    h.steal ? `${pct(h.steal)} stolen` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return h.loopDelayMaxMs >= HARNESS_STALL_MS
    ? `the harness itself was stalled (its event loop up to ${h.loopDelayMaxMs} ms late${machine ? `; ${machine}` : ''}): what it timed includes its own delay`
    : `the harness was responsive (event loop at most ${h.loopDelayMaxMs} ms late${machine ? `; ${machine}` : ''})`;
}

/** The kernel's counters in words. */
export function kernelText(kernel: SwitchoverEvidence['kernel']): string {
  if ('unavailable' in kernel) return `kernel counters: ${kernel.unavailable}`;
  const entries = Object.entries(kernel);
  return entries.length
    ? `kernel: ${entries.map(([name, n]) => `${name} ${n > 0 ? '+' : ''}${n}`).join(', ')}`
    : 'kernel: no counter moved';
}

/** How the old listener closed, in words ('' when not known). */
export function listenerText(listener: ListenerClose | null): string {
  if (!listener) return '';
  if (listener.handedTo !== null) return `old listener handed to PID ${listener.handedTo}, never closed`;
  return listener.steered ? 'old listener steered before it closed' : `old listener not steered (${listener.reason})`;
}

/** One sentence for a failed check's detail. */
export function describeEvidence(e: SwitchoverEvidence): string {
  const parts = [harnessText(e.harness), kernelText(e.kernel), listenerText(e.oldListener)].filter(Boolean);
  return `restart #${e.index}: ${parts.join('; ')}`;
}

/** The restarts whose switchover windows hold a bucket for which `holds` is true. */
export function restartsWhere(
  result: EvidenceSource,
  load: Pick<LoadSnapshot, 'buckets' | 'bucketMs'>,
  holds: (bucket: Bucket) => boolean,
): number[] {
  return result.switchovers
    .filter((w) => load.buckets.some((b) => holds(b) && b.start < w.to && b.start + load.bucketMs > w.from))
    .map((w) => w.index);
}

/**
 * The restart whose switchover window holds the bucket of the moment `at`:
 * a client sees a server's exit a few ms after the restart script does, so
 * a moment is judged by its bucket, as failures are.
 */
export function restartAt(
  result: EvidenceSource & { startedAt: number; bucketMs: number },
  at: number,
): number | undefined {
  const start = result.startedAt + bucketIndex(at, result.startedAt, result.bucketMs) * result.bucketMs;
  return result.switchovers.find((w) => start < w.to && start + result.bucketMs > w.from)?.index;
}

/** The evidence of each restart in `indexes`, as one string ('' for none). */
export function evidenceText(result: EvidenceSource, indexes: number[]): string {
  return indexes.map((index) => describeEvidence(evidenceOf(result, index))).join('. ');
}
