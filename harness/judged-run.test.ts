// The exit code of a run that was reported: what a CI step branches on.
import { describe, expect, it } from 'vitest';
import { healthy, restart, scenario, t0 } from '../test/fixtures/scenario-result.js';
import { EXIT } from './exit-codes.js';
import { exitCodeOfRun } from './judged-run.js';
import { toResultDocument } from './result/document.js';
import type { RunRecord } from './result/record.js';
import { judge } from './verdict.js';

const docOf = (edit?: (record: RunRecord) => void, exitCode = 0) => {
  const record = scenario(healthy, { restarts: [restart(1, 1, 2, t0 + 1000, exitCode)], ...(edit ? { edit } : {}) });
  return toResultDocument(record, judge(record));
};

describe('exitCodeOfRun', () => {
  it("is the verdict's code for a run that was judged", () => {
    expect(exitCodeOfRun(docOf(), false)).toBe(EXIT.passed);
    expect(exitCodeOfRun(docOf(undefined, 1), false)).toBe(EXIT.failed);
  });

  it('is 4 when the first restart command never ran (126, 127), 130 on a signal, 5 on an error of ours', () => {
    expect(exitCodeOfRun(docOf(undefined, 127), false)).toBe(EXIT.target);
    expect(exitCodeOfRun(docOf(undefined, 126), false)).toBe(EXIT.target);
    expect(exitCodeOfRun(docOf(), true)).toBe(EXIT.interrupted);
    const crashed = docOf(
      (record) => (record.interrupted = { reason: 'x is undefined', stack: 'TypeError: x\n  at y' }),
    );
    expect(exitCodeOfRun(crashed, false)).toBe(EXIT.internal);
    const engineGone = docOf((record) => (record.interrupted = { reason: 'the container went away' }));
    expect(exitCodeOfRun(engineGone, false)).toBe(EXIT.failed);
  });

  it('is the verdict when a later restart could not run: the first did, so the run judged what it saw', () => {
    const record = scenario(healthy, {
      restarts: [restart(1, 1, 2, t0 + 1000), restart(2, 2, 3, t0 + 1500, 127)],
    });
    expect(exitCodeOfRun(toResultDocument(record, judge(record)), false)).toBe(EXIT.failed);
  });

  it('is the verdict when the first restart could not run because the run was cut short (its container gone)', () => {
    const gone = docOf((record) => (record.interrupted = { reason: 'no such container' }), 126);
    expect(exitCodeOfRun(gone, false)).toBe(EXIT.failed);
  });
});
