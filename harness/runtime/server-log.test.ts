import { describe, expect, it } from 'vitest';
import { parseServerLog } from './server-log.js';

describe('parseServerLog', () => {
  it('reads each server\'s exit code and drain deadline, and skips other lines', () => {
    const log = [
      '{"ts":"t","pid":10,"event":"listening","version":"v1"}',
      'some stderr line from node',
      '{"ts":"t","pid":10,"event":"drain_started","connections":3}',
      '{"ts":"t","pid":10,"event":"exit","code":0,"served":120}',
      '{"ts":"t","pid":11,"event":"drain_deadline","cutConnections":2,"cutRequests":1}',
      '{"ts":"t","pid":11,"event":"exit","code":1,"served":5}',
      '{"ts":"t","pid":12,"event":"ready"}',
      '{broken json',
    ].join('\n');
    expect(parseServerLog(log)).toEqual([
      { pid: 10, exitCode: 0, drainDeadline: null },
      { pid: 11, exitCode: 1, drainDeadline: { cutConnections: 2, cutRequests: 1 } },
      { pid: 12, exitCode: null, drainDeadline: null },
    ]);
  });
});
