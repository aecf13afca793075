import { describe, expect, it } from 'vitest';
import { judge } from '../verdict.js';
import { toResultDocument } from '../result/document.js';
import { healthy, restart, scenario, t0 } from '../../test/fixtures/scenario-result.js';
import { foreignSwitchoverTimes, galleryRow } from './rows.js';

describe('the gallery table', () => {
  it('times a switchover from the trigger to the last answer of a process that served before it', () => {
    // PID 1 answers until +1190 (100 ms buckets: its last bucket ends at +1200); the restart is at +1000.
    const doc = toResultDocument(scenario(healthy), judge(scenario(healthy)));
    expect(foreignSwitchoverTimes(doc)).toEqual([200]);
  });

  it('has no switchover time for a restart that failed, or without any identity', () => {
    const failed = scenario(healthy, { restarts: [restart(1, 1, 2, t0 + 1000, 1)] });
    expect(foreignSwitchoverTimes(toResultDocument(failed, judge(failed)))).toEqual([]);
    const anonymous = scenario((_mode, r) => {
      for (let t = 0; t < 3000; t += 10) {
        r.written();
        r.answer(0, '', 5, t0 + t);
      }
    });
    expect(foreignSwitchoverTimes(toResultDocument(anonymous, judge(anonymous)))).toEqual([]);
  });

  it('counts failures per load mode with their causes', () => {
    const lossy = scenario(
      (mode, r) => {
        healthy(mode, r);
        r.written();
        r.fail('silent_loss', t0 + 1150);
      },
      { load: 'both' },
    );
    const row = galleryRow('x', toResultDocument(lossy, judge(lossy)));
    expect(row).toMatchObject({
      example: 'x',
      passed: false,
      restarts: 1,
      failed: { keepalive: { failed: 1, causes: { silent_loss: 1 } }, churn: { failed: 1 } },
      longLane: null,
      stream: null,
    });
  });

  it('counts the long requests cut and the streams that ended without a graceful end', () => {
    const lanes = scenario(healthy, {
      edit: (record) => {
        record.longLane = {
          path: '/slow?ms=2000',
          connections: 2,
          written: 8,
          answered: 5,
          failed: 3,
          inFlightAtStop: 0,
          failuresByCause: { cut_in_flight: 2, connection_refused: 1 },
          latency: null,
          buckets: [],
        };
        const ended = (how: 'close' | 'cut', code?: number) => ({
          at: t0 + 1100,
          how,
          ...(code ? { code } : {}),
          backAfterMs: 120,
          lost: how === 'cut' ? 2 : 0,
          duplicated: 0,
        });
        record.stream = {
          kind: 'ws',
          path: '/ws',
          connections: 2,
          events: 50,
          unnumbered: 0,
          lostInStream: 0,
          duplicatedInStream: 0,
          breaks: [ended('close', 1012), ended('cut')],
        };
      },
    });
    const row = galleryRow('x', toResultDocument(lanes, judge(lanes)));
    expect([row.longLane, row.stream]).toEqual([
      { path: '/slow?ms=2000', written: 8, cut: 2, failed: 3 },
      { kind: 'ws', ended: 2, notGraceful: 1, lost: 2 },
    ]);
  });
});
