// h2load's count as the goaway bench reads it: the "requests:" line of its
// summary, errored being a part of failed.
import { describe, expect, it } from 'vitest';
import { parseH2load } from './goaway.js';

describe('parseH2load', () => {
  it("reads succeeded, failed and errored from h2load's summary", () => {
    const output = [
      'finished in 6.00s, 7070.17 req/s, 240.41KB/s',
      'requests: 42421 total, 42445 started, 42421 done, 42399 succeeded, 22 failed, 22 errored, 0 timeout',
      'status codes: 42399 2xx, 0 3xx, 0 4xx, 0 5xx',
    ].join('\n');
    expect(parseH2load(output)).toEqual({ succeeded: 42399, failed: 22, errored: 22 });
  });

  it('says null when h2load printed no count (it could not start, say)', () => {
    expect(parseH2load('h2load: unrecognized option')).toBeNull();
  });
});
