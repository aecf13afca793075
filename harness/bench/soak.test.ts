import { describe, expect, it } from 'vitest';
import { parseMarkCompacts, series } from './soak.js';

describe('soak series', () => {
  it('compares the first tenth of the samples with the last, and keeps the largest', () => {
    const flat = series('fds', [
      ...Array.from({ length: 20 }, (_, i) => 20 + (i % 3)),
      140,
      ...Array.from({ length: 19 }, (_, i) => 20 + (i % 3)),
    ]);
    expect(flat.firstTenth).toMatchObject({ median: 20.5, min: 20, max: 22 });
    expect(flat.lastTenth).toMatchObject({ median: 20.5, min: 20, max: 22 });
    expect(flat.max).toBe(140);

    const growing = series(
      'rss',
      Array.from({ length: 40 }, (_, i) => 100 + i),
    );
    expect(growing.lastTenth!.median - growing.firstTenth!.median).toBeGreaterThan(30);
  });

  it('uses one sample per tenth when there are fewer than ten', () => {
    expect(series('procs', [5, 9, 6])).toMatchObject({ firstTenth: { median: 5 }, lastTenth: { median: 6 }, max: 9 });
  });
});

describe('parseMarkCompacts', () => {
  it('reads the heap after each full collection, at the isolate time it ran, and ignores scavenges', () => {
    const trace = [
      '[9268:0x2dbbd490]      193 ms: Mark-Compact 82.0 (114.5) -> 73.9 (107.3) MB, 8.28 / 0.01 ms  (+ 10.5 ms in 65 steps since start of marking) finalize incremental marking via stack guard; GC in old space requested',
      '[9268:0x2dbbd490]      250 ms: Scavenge 90.1 (120.0) -> 89.0 (121.0) MB, 1.2 / 0.0 ms  (average mu = 0.9) allocation failure;',
      '[9268:0x2dbbd490]    61017 ms: Mark-Compact (reduce) 120.4 (130.0) -> 64.0 (90.2) MB, 30.1 / 0.0 ms  (average mu = 0.98) memory pressure',
    ].join('\n');
    const gcs = parseMarkCompacts(trace, 1_000_000);
    expect(gcs.map((g) => g.at)).toEqual([1_000_193, 1_061_017]);
    expect(gcs.map((g) => g.heapMiB)).toEqual([73.9, 64]);
  });
});
