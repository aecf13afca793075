// A saved run judged again: its record is all the checks read.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/processes.js';
import { readResultDocument } from '../result/document.js';
import { judgeAgain } from './report.js';

const recorded = (name: string) => readResultDocument(join(ROOT, 'test/fixtures/results', name, 'result.json'));

describe('report, judging again', () => {
  it('gives the same verdict at the floor the run was judged with', () => {
    const doc = recorded('fault-stall-after-ready');
    expect(judgeAgain(doc, String(doc.parameters.stallFloor)).checks).toEqual(doc.checks);
  });

  it('changes only what the new floor changes: a floor of 0 lets the stall pass, and the slow responses still fail', () => {
    const doc = recorded('fault-stall-after-ready');
    const failing = (d: typeof doc) => d.checks.filter((c) => !c.passed).map((c) => c.id);
    expect(failing(doc)).toContain('no-stall');
    const again = judgeAgain(doc, '0');
    expect(again.parameters.stallFloor).toBe(0);
    expect(failing(again)).toEqual(failing(doc).filter((id) => id !== 'no-stall'));
    expect(again.totalRequests).toBe(doc.totalRequests);
  });

  it('refuses a floor out of range in one line', () => {
    expect(() => judgeAgain(recorded('poc-reuseport'), '2')).toThrow('--stall-floor "2" is not valid: use a number from 0 to 1');
  });
});
