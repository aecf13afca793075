// What a restart's events say about time: when the new server was ready, when
// the old one was signalled and gone, and the switchover window the load is
// judged over. Computed here once, for the scenario, the checks and the views.
import type { RestartEvent } from './events.js';

/** The fields of a restart record that its timeline is read from. */
export interface RestartSteps {
  index: number;
  triggeredAt: number;
  finishedAt: number;
  events: readonly RestartEvent[];
}

export interface RestartTimeline {
  newReadyAt?: number;
  oldSignalledAt?: number;
  /** The old server's exit, or its SIGKILL. */
  oldGoneAt?: number;
  oldGone?: 'exited' | 'killed';
  /** Set when the restart rolled back: its reason. */
  rolledBack?: string;
}

export function timelineOf(restart: RestartSteps): RestartTimeline {
  const at = (name: string) => restart.events.find((e) => e.event === name)?.ts;
  const gone = restart.events.find((e) => e.event === 'old_exited' || e.event === 'old_killed');
  const rolledBack = restart.events.find((e) => e.event === 'rolled_back');
  return {
    newReadyAt: at('new_ready'),
    oldSignalledAt: at('old_signalled'),
    oldGoneAt: gone?.ts,
    oldGone: gone ? (gone.event === 'old_killed' ? 'killed' : 'exited') : undefined,
    rolledBack: rolledBack ? (rolledBack.reason ?? 'unknown reason') : undefined,
  };
}

/**
 * The end of a restart's switchover: its old server's exit (or SIGKILL), or
 * the new one's readiness when that comes later (a design that stops before
 * it starts: clients wait until then), else the restart's end.
 */
export function switchoverEnd(restart: RestartSteps): number {
  const { oldGoneAt, newReadyAt } = timelineOf(restart);
  if (oldGoneAt === undefined) return restart.finishedAt;
  return Math.max(oldGoneAt, newReadyAt ?? oldGoneAt);
}

/**
 * Each restart's switchover window, from its trigger to its end. A restart
 * that reports no steps (a user's own command) says nothing of when its
 * switchover ends: its window lasts until the next restart, or the end.
 */
export function switchoverWindows(restarts: readonly RestartSteps[], reportsSteps: boolean, endedAt: number): { index: number; from: number; to: number }[] {
  return restarts.map((r) => ({
    index: r.index,
    from: r.triggeredAt,
    to: reportsSteps ? switchoverEnd(r) : (restarts.find((next) => next.index === r.index + 1)?.triggeredAt ?? endedAt),
  }));
}

/**
 * The warm-up the steady state is measured over: its first bucket left out
 * (connections still opening), until the first restart, or the end.
 */
export function warmupWindow(startedAt: number, bucketMs: number, restarts: readonly { triggeredAt: number }[], endedAt: number): { from: number; to: number } {
  return { from: startedAt + bucketMs, to: restarts[0]?.triggeredAt ?? endedAt };
}
