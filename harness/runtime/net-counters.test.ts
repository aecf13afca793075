import { describe, expect, it } from 'vitest';
import { counterDelta, moved, NetCounterLog, type NetCounters, parseNetCounters } from './net-counters.js';

// Shortened /proc/net/netstat and /proc/net/snmp: a header line of names, then a line of values.
const netstat = (success: number, drops: number) =>
  [
    'TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPMigrateReqSuccess TCPMigrateReqFailure',
    `TcpExt: 0 0 ${drops} ${success} 0`,
    'IpExt: InNoRoutes InTruncatedPkts',
    'IpExt: 0 0',
  ].join('\n');
const snmp = (rsts: number) =>
  ['Ip: Forwarding DefaultTTL', 'Ip: 1 64', 'Tcp: RtoAlgorithm ActiveOpens OutRsts', `Tcp: 1 10 ${rsts}`].join('\n');

describe('net counters', () => {
  it('reads the TcpExt and Tcp counters by name', () => {
    expect(parseNetCounters(netstat(7, 2), snmp(30))).toEqual({
      TCPMigrateReqSuccess: 7,
      TCPMigrateReqFailure: 0,
      ListenDrops: 2,
      ListenOverflows: 0,
      OutRsts: 30,
    });
  });

  it('says which counter a kernel lacks', () => {
    expect(() => parseNetCounters('TcpExt: ListenDrops\nTcpExt: 0', snmp(0))).toThrow(
      'the kernel has no TcpExt TCPMigrateReqSuccess counter',
    );
  });

  it("reads this machine's own counters", async () => {
    const { readNetCounters } = await import('./net-counters.js');
    const counters = await readNetCounters('/proc/self/net');
    expect(Object.values(counters).every((n) => Number.isInteger(n))).toBe(true);
  });

  it('turns readings into a warm-up delta and one delta per restart, up to the next one or the end', async () => {
    const readings: NetCounters[] = [0, 0, 5, 5, 9].map((n) => parseNetCounters(netstat(n, 0), snmp(n * 2)));
    const log = new NetCounterLog({ describe: 'test', read: async () => readings.shift()! });
    for (const at of ['start', 'before #1', 'before #2', 'before #3', 'end']) await log.take(at);
    const record = log.record();
    expect(record.warmup).toMatchObject({ TCPMigrateReqSuccess: 0 });
    expect(record.restarts.map((r) => [r.index, r.delta.TCPMigrateReqSuccess, r.delta.OutRsts])).toEqual([
      [1, 5, 10],
      [2, 0, 0],
      [3, 4, 8],
    ]);
    expect(moved(record.restarts[0]!.delta)).toEqual({ TCPMigrateReqSuccess: 5, OutRsts: 10 });
  });

  it('keeps what it read before a reading failed, and says why', async () => {
    let calls = 0;
    const log = new NetCounterLog({
      describe: '/proc/1/net',
      read: async () => {
        if (++calls > 2) throw new Error('EACCES');
        return parseNetCounters(netstat(calls, 0), snmp(0));
      },
    });
    for (const at of ['start', 'before #1', 'before #2', 'end']) await log.take(at);
    expect(log.record()).toMatchObject({
      source: '/proc/1/net',
      error: '/proc/1/net could not be read at before #2: EACCES',
      restarts: [],
    });
    expect(new NetCounterLog('not here').record()).toEqual({
      source: null,
      error: 'not here',
      warmup: null,
      restarts: [],
    });
    expect(
      counterDelta(parseNetCounters(netstat(1, 1), snmp(1)), parseNetCounters(netstat(4, 1), snmp(3))),
    ).toMatchObject({ TCPMigrateReqSuccess: 3, OutRsts: 2, ListenDrops: 0 });
  });
});
