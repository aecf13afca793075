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
  /** The freeze fault: when the serving process was continued. */
  thawedAt?: number;
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
    thawedAt: at('thawed'),
  };
}

/**
 * The end of a restart's switchover: its old server's exit (or SIGKILL), or
 * the new one's readiness when that comes later (a design that stops before
 * it starts: clients wait until then), or the end of a freeze injected after
 * it, else the restart's end.
 */
export function switchoverEnd(restart: RestartSteps): number {
  const { oldGoneAt, newReadyAt, thawedAt } = timelineOf(restart);
  if (oldGoneAt === undefined) return restart.finishedAt;
  return Math.max(oldGoneAt, newReadyAt ?? oldGoneAt, thawedAt ?? oldGoneAt);
}

/**
 * Each restart's switchover window, from its trigger to its end. A restart
 * that reports no steps (a user's own command) says nothing of when its
 * switchover ends: its window lasts until the next restart, or the end.
 */
export function switchoverWindows(
  restarts: readonly RestartSteps[],
  reportsSteps: boolean,
  endedAt: number,
): { index: number; from: number; to: number }[] {
  return restarts.map((r) => ({
    index: r.index,
    from: r.triggeredAt,
    to: reportsSteps ? switchoverEnd(r) : (restarts.find((next) => next.index === r.index + 1)?.triggeredAt ?? endedAt),
  }));
}

/** A judged response of the exact tail: when it was answered, and how long it took. */
export type TimedAnswer = readonly [answeredAt: number, latencyMs: number];

/**
 * Moves each switchover's end to the last answer of a request that was
 * already waiting when it ended. In a design that stops before it starts,
 * the clients queued during the switchover are served only once the new
 * server is up, and on a busy machine their answers come after `new_ready`
 * (up to 250 ms after it, in runs with CPU hogs beside them): a window that
 * ended at readiness lost them, the switchover's longest waits, to the next
 * bucket. `answers` is the recorder's exact tail (every response of 100 ms
 * or more); a request it leaves out was answered within 100 ms of the
 * window's end, in its last bucket or the next. A window never reaches past
 * the next restart's trigger or `endedAt`; an answer later than that stays
 * out.
 */
export function untilAnswered<W extends { from: number; to: number }>(
  windows: readonly W[],
  answers: readonly TimedAnswer[],
  endedAt: number,
): W[] {
  return windows.map((window, position) => {
    const limit = windows[position + 1]?.from ?? endedAt;
    let to = window.to;
    for (const [answeredAt, latencyMs] of answers) {
      const waitingAtEnd = answeredAt - latencyMs < window.to && answeredAt >= window.to;
      // +1: a window is [from, to), and the answer's own bucket belongs in it.
      if (waitingAtEnd && answeredAt < limit) to = Math.max(to, answeredAt + 1);
    }
    return to === window.to ? window : { ...window, to };
  });
}

/**
 * The warm-up the steady state is measured over: its first bucket left out
 * (connections still opening), until the first restart, or the end.
 */
export function warmupWindow(
  startedAt: number,
  bucketMs: number,
  restarts: readonly { triggeredAt: number }[],
  endedAt: number,
): { from: number; to: number } {
  return { from: startedAt + bucketMs, to: restarts[0]?.triggeredAt ?? endedAt };
}
