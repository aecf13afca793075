import { describe, expect, it } from 'vitest';
import { parseWrk } from './measure.js';

const REPORT = `Running 4s test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms  612.33us  12.01ms   90.12%
    Req/Sec    16.21k     1.02k   17.90k    72.50%
  Latency Distribution
     50%    2.98ms
     75%    3.21ms
     90%    3.60ms
     99%    5.47ms
  64540 requests in 4.00s, 11.45MB read
  Socket errors: connect 0, read 3, write 0, timeout 1
  Non-2xx or 3xx responses: 2
Requests/sec:  16135.00
Transfer/sec:      2.86MB
`;

describe('parseWrk', () => {
  it('reads the count, the duration, the p99 and every error', () => {
    expect(parseWrk(REPORT)).toEqual({ requests: 64540, seconds: 4, perSecond: 16135, p99Ms: 5.47, errors: 6 });
    expect(parseWrk(REPORT.replace('99%    5.47ms', '99%  812.00us')).p99Ms).toBeCloseTo(0.812);
  });

  it('says so when wrk printed no result', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/wrk printed no result/);
  });
});
