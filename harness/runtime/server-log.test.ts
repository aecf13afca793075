import { describe, expect, it } from 'vitest';
import { parseServerLog } from './server-log.js';

describe('parseServerLog', () => {
  it("reads each server's exit code and drain deadline, and skips other lines", () => {
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
      { pid: 10, exitCode: 0, drainDeadline: null, listenerClose: null },
      { pid: 11, exitCode: 1, drainDeadline: { cutConnections: 2, cutRequests: 1 }, listenerClose: null },
      { pid: 12, exitCode: null, drainDeadline: null, listenerClose: null },
    ]);
  });

  it('reads how each listener closed: steered, or skipped and why, and what it accepted while draining', () => {
    const log = [
      '{"ts":"t","pid":20,"event":"steered","index":1,"probes":1,"ms":1.2}',
      '{"ts":"t","pid":20,"event":"listener_closed","steered":true,"acceptedWhileDraining":3}',
      '{"ts":"t","pid":21,"event":"steer_skipped","reason":"no other listener on the port"}',
      '{"ts":"t","pid":21,"event":"listener_closed","steered":false,"acceptedWhileDraining":0}',
      '{"ts":"t","pid":22,"event":"listener_closed"}',
      '{"ts":"t","pid":23,"event":"listener_handed_over","to":24,"uid":1000}',
      '{"ts":"t","pid":23,"event":"steer_skipped","reason":"the socket was handed to PID 24"}',
      '{"ts":"t","pid":23,"event":"listener_closed","steered":false,"acceptedWhileDraining":0}',
    ].join('\n');
    expect(parseServerLog(log).map((s) => s.listenerClose)).toEqual([
      { steered: true, handedTo: null, reason: null, acceptedWhileDraining: 3 },
      { steered: false, handedTo: null, reason: 'no other listener on the port', acceptedWhileDraining: 0 },
      {
        steered: false,
        handedTo: null,
        reason: 'the server said nothing of steering (an older version)',
        acceptedWhileDraining: null,
      },
      { steered: false, handedTo: 24, reason: 'the socket was handed to PID 24', acceptedWhileDraining: 0 },
    ]);
  });
});
