// Progress while a run goes: a live line on a terminal, a plain line every
// few seconds anywhere else (a CI log), and a line per restart in both.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Recorder } from '../load/recorder.js';
import { PLAIN_EVERY_MS, progressEvent, startProgress } from './terminal.js';

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream };
}

describe('progress', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('writes a plain line every few seconds to a log (no colour, no carriage return), and nothing on stop', () => {
    const recorder = new Recorder(100, 1000, Date.now());
    const { written, stream: log } = stream(false);
    const stop = startProgress(recorder, 1000, log);
    for (let i = 0; i < 50; i++) recorder.answer(7, 'v1', 2);
    recorder.fail('connection_reset');
    vi.advanceTimersByTime(PLAIN_EVERY_MS - 1);
    expect(written).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(written).toEqual(['progress 5.0s: 10 req/s, 50 answered, 1 failed, PIDs 7\n']);
    stop();
    expect(written).toHaveLength(1);
  });

  it('redraws one live line on a terminal and clears it on stop', () => {
    const recorder = new Recorder(100, 1000, Date.now());
    const { written, stream: tty } = stream(true);
    const stop = startProgress(recorder, 1000, tty);
    vi.advanceTimersByTime(1000);
    expect(written.length).toBe(4);
    expect(written.every((line) => line.startsWith('\r\x1b[K') && !line.endsWith('\n'))).toBe(true);
    stop();
    expect(written.at(-1)).toBe('\r\x1b[K');
  });

  it('puts an event on a line of its own: over the live line on a terminal, plain in a log', () => {
    const log = stream(false);
    progressEvent('restart 1/3 done in 1.2 s', log.stream);
    expect(log.written).toEqual(['restart 1/3 done in 1.2 s\n']);
    const tty = stream(true);
    progressEvent('restart 1/3 done in 1.2 s', tty.stream);
    expect(tty.written).toEqual(['\r\x1b[Krestart 1/3 done in 1.2 s\n']);
  });
});
