// Per-restart switchover figures, derived from result.json alone so that
// every view (HTML, Markdown, JUnit) and a re-render agree.
import { evidenceOf, type SwitchoverEvidence } from '../evidence.js';
import type { LatencySummary } from '../load/recorder.js';
import type { ResultDocument } from '../result/document.js';
import { timelineOf } from '../strategies/timeline.js';

export interface Switchover {
  index: number;
  oldPid: number | null;
  newPid: number | null;
  exitCode: number;
  /** 'ok', 'rolled back: <reason>', 'old killed', or 'failed (exit N)'. */
  outcome: string;
  /** Trigger to the new PID's ready marker. */
  readyMs: number | null;
  /** SIGTERM to the old PID's last answer seen by the load. */
  lastOldAnswerMs: number | null;
  /** SIGTERM to the old process's exit (or SIGKILL). */
  oldGoneMs: number | null;
  /** Latency of every response from the trigger until the old server was gone. */
  latency: LatencySummary | null;
  /** The harness's health, the kernel's counters and the old listener's close, in this switchover. */
  evidence: SwitchoverEvidence;
}

export function switchovers(doc: ResultDocument): Switchover[] {
  const lastSeen = new Map(doc.pids.map((p) => [p.pid, p.last]));
  const windows = new Map(doc.switchovers.map((w) => [w.index, w]));
  return doc.restarts.map((r) => {
    const { newReadyAt: ready, oldSignalledAt: signalled, oldGoneAt: gone, oldGone, rolledBack } = timelineOf(r);
    const lastOld = r.oldPid === null ? undefined : lastSeen.get(r.oldPid);
    return {
      index: r.index,
      oldPid: r.oldPid,
      newPid: r.newPid,
      exitCode: r.exitCode,
      outcome: rolledBack
        ? `rolled back: ${rolledBack}`
        : oldGone === 'killed'
          ? 'old killed'
          : r.exitCode === 0
            ? 'ok'
            : `failed (exit ${r.exitCode})`,
      readyMs: ready === undefined ? null : ready - r.triggeredAt,
      lastOldAnswerMs: signalled === undefined || lastOld === undefined ? null : Math.max(0, lastOld - signalled),
      oldGoneMs: signalled === undefined || gone === undefined ? null : gone - signalled,
      latency: windows.get(r.index)?.stats.latency ?? null,
      evidence: evidenceOf(doc, r.index),
    };
  });
}
