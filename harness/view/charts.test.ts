// The charts' colours: a restart event's dashed rule must not be read as a
// process or as a loss, and no two events may look alike.
import { describe, expect, it } from 'vitest';
import { EVENT_COLOURS, FAILED_COLOUR, PID_COLOURS } from './charts.js';

describe('chart colours', () => {
  it("gives every event a colour of its own, none a PID's or the failures' red", () => {
    expect(new Set(EVENT_COLOURS).size).toBe(EVENT_COLOURS.length);
    expect(EVENT_COLOURS.filter((colour) => PID_COLOURS.includes(colour) || colour === FAILED_COLOUR)).toEqual([]);
    expect(PID_COLOURS).not.toContain(FAILED_COLOUR);
  });
});
