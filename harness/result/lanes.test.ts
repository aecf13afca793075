import chalk from 'chalk';
import { beforeAll, describe, expect, it } from 'vitest';
import { healthy, scenario } from '../../test/fixtures/scenario-result.js';
import { judge } from '../verdict.js';
import { renderSummary } from '../view/terminal.js';
import { renderHtmlReport } from '../view/html-report.js';
import { toResultDocument } from './document.js';
import { countedApart, lanesOf, lanesOfKind, streamFigures } from './lanes.js';
import type { RunRecord } from './record.js';

/** A run in both modes with every other kind of lane: a mix of two kinds, a long lane, a WebSocket lane. */
function everyLane(): RunRecord {
  const record = scenario(healthy, { load: 'both' });
  const kind = {
    method: 'POST',
    path: '/submit',
    weight: 3,
    written: 12,
    answered: 10,
    failed: 2,
    inFlightAtStop: 0,
    failuresByCause: { connection_reset: 2 },
    latency: { count: 10, p50: 1, p99: 7, max: 9 },
    latencyTail: null,
  };
  record.requests = [
    { ...kind, name: 'GET /', method: 'GET', path: '/', failed: 0, written: 10, failuresByCause: {} },
    { ...kind, name: 'POST /submit' },
  ];
  record.longLane = {
    path: '/slow?ms=2000',
    connections: 2,
    written: 6,
    answered: 5,
    failed: 1,
    inFlightAtStop: 0,
    failuresByCause: { cut_in_flight: 1 },
    latency: { count: 5, p50: 2000, p99: 2003, max: 2004 },
    buckets: [],
  };
  record.stream = {
    kind: 'ws',
    path: '/ws',
    connections: 2,
    events: 1234,
    unnumbered: 0,
    lostInStream: 1,
    duplicatedInStream: 0,
    breaks: [
      { at: record.startedAt + 1500, how: 'cut', backAfterMs: 20, lost: 2, duplicated: 0 },
      { at: record.startedAt + 1600, how: 'close', code: 1012, backAfterMs: 30, lost: 0, duplicated: 1 },
    ],
  };
  return record;
}

describe('lanesOf', () => {
  beforeAll(() => {
    chalk.level = 0;
  });

  it('lists every lane once, in the order reports list them, with a stable id and a label', () => {
    expect(lanesOf(everyLane()).map((lane) => [lane.kind, lane.id, lane.label])).toEqual([
      ['mode', 'mode:keepalive', 'keep-alive'],
      ['mode', 'mode:churn', 'new connection per request'],
      ['request', 'request:0', 'GET / ×3'],
      ['request', 'request:1', 'POST /submit ×3'],
      ['long', 'long', 'long requests (2 × /slow?ms=2000)'],
      ['stream', 'stream', 'streams (2 × ws:/ws)'],
    ]);
    expect(lanesOf(scenario(healthy, { load: 'keepalive' })).map((lane) => lane.id)).toEqual(['mode:keepalive']);
  });

  it("gives a mode its steady latency, the other lanes their whole run's, and a stream no ledger", () => {
    const record = everyLane();
    const [keepalive, , get, , long, stream] = lanesOf(record);
    expect(keepalive!.latency).toBe(record.modes[0]!.steady.latency);
    expect(get!.latency).toBe(record.requests![0]!.latency);
    expect(long!.ledger).toEqual({
      written: 6,
      answered: 5,
      failed: 1,
      inFlightAtStop: 0,
      failuresByCause: { cut_in_flight: 1 },
    });
    expect([stream!.ledger, stream!.latency]).toEqual([null, null]);
    expect(lanesOfKind(record, 'request').map((lane) => lane.record.name)).toEqual(['GET /', 'POST /submit']);
  });

  it("counts apart the modes and the long lane only: a kind of a mix is its mode's too", () => {
    expect(
      lanesOf(everyLane())
        .filter(countedApart)
        .map((lane) => lane.id),
    ).toEqual(['mode:keepalive', 'mode:churn', 'long']);
  });

  it("totals a stream lane's losses, repeats and ends that were not graceful", () => {
    expect(streamFigures(everyLane().stream!)).toEqual({ lost: 3, duplicated: 1, notGraceful: 1 });
  });

  // Rendered the same before the views iterated the lanes (checked against the views that named each family).
  it('is what the terminal and the HTML report list under the load', async () => {
    const record = everyLane();
    const doc = toResultDocument(record, judge(record));
    const terminal = renderSummary(doc);
    expect(terminal.slice(terminal.indexOf('Load, per mode'), terminal.indexOf('\n\nRestarts'))).toBe(
      [
        'Load, per mode',
        '  keep-alive                        310 answered, 0 failed, 0 in flight at stop; steady p99 5 ms, max 5 ms',
        '  new connection per request        310 answered, 0 failed, 0 in flight at stop; steady p99 5 ms, max 5 ms',
        '    GET / ×3                         10 answered, 0 failed, 0 in flight at stop; p99 7 ms, max 9 ms',
        '    POST /submit ×3                  10 answered, 2 failed (2 connection_reset), 0 in flight at stop; p99 7 ms, max 9 ms',
        '  long requests (2 × /slow?ms=2000)         5 answered, 1 failed (1 cut_in_flight), 0 in flight at stop; p99 2003 ms, max 2004 ms',
        '  streams (2 × ws:/ws)            1,234 messages, 2 ended (1 not gracefully), 3 lost',
      ].join('\n'),
    );
    const html = await renderHtmlReport(doc);
    const table = html.slice(html.indexOf('<h2>Per load mode'), html.indexOf('<h2>Responses per'));
    // A stream lane counts no requests: it has no row in the table of ledgers.
    expect([...table.matchAll(/<tr><td>([^<]*)<\/td>/g)].map((row) => row[1])).toEqual([
      'keep-alive',
      'new connection per request',
      'GET / ×3',
      'POST /submit ×3',
      'long requests (2 × /slow?ms=2000)',
    ]);
    expect(table).toContain(
      '<tr><td>long requests (2 × /slow?ms=2000)</td><td>6</td><td>5</td><td>1 (1 cut_in_flight)</td><td>0</td><td>2,003 ms</td><td>2,004 ms</td></tr>',
    );
  });
});
