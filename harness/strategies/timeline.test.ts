// When a switchover ends: at the step that ends it, then on until the
// requests that were waiting at that step are answered.
import { describe, expect, it } from 'vitest';
import type { RestartEventName } from './events.js';
import { switchoverEnd, switchoverWindows, untilAnswered } from './timeline.js';

const restart = (index: number, triggeredAt: number, events: [RestartEventName, number][]) => ({
  index,
  triggeredAt,
  finishedAt: triggeredAt + 3000,
  events: events.map(([event, ts]) => ({ event, ts, pid: 1 })),
});

describe('switchoverEnd', () => {
  it("is the old server's exit, or the new one's readiness when that comes later", () => {
    expect(
      switchoverEnd(
        restart(1, 0, [
          ['new_ready', 300],
          ['old_exited', 900],
        ]),
      ),
    ).toBe(900);
    // Stop, then start: clients wait for the new server.
    expect(
      switchoverEnd(
        restart(1, 0, [
          ['old_exited', 2200],
          ['new_ready', 2400],
        ]),
      ),
    ).toBe(2400);
    expect(switchoverEnd(restart(1, 0, [['new_ready', 300]]))).toBe(3000);
  });
});

describe('untilAnswered', () => {
  const windows = switchoverWindows(
    [
      restart(1, 10_000, [
        ['old_exited', 12_200],
        ['new_ready', 12_400],
      ]),
      restart(2, 15_000, [
        ['new_ready', 15_300],
        ['old_exited', 15_500],
      ]),
    ],
    true,
    20_000,
  );

  it('moves the end to the last answer of a request that was waiting at it', () => {
    // Queued at 10,150 and 10,400, answered 120 and 160 ms after the new server was ready.
    const moved = untilAnswered(
      windows,
      [
        [12_520, 2370],
        [12_560, 2160],
      ],
      20_000,
    );
    expect(moved[0]).toEqual({ index: 1, from: 10_000, to: 12_561 });
    expect(moved[1]).toBe(windows[1]);
  });

  it('leaves a window alone for answers to requests sent after its end, or answered within it', () => {
    expect(
      untilAnswered(
        windows,
        [
          [12_700, 200],
          [12_300, 2000],
        ],
        20_000,
      ),
    ).toEqual(windows);
  });

  it('never reaches past the next restart, or the end of the load', () => {
    // A request waiting at #1's end answered only after #2 began, and one waiting at #2's end answered after the load stopped.
    expect(
      untilAnswered(
        windows,
        [
          [15_100, 3000],
          [20_500, 5100],
        ],
        20_000,
      ),
    ).toEqual(windows);
  });
});
