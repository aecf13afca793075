import { describe, expect, it } from 'vitest';
import { count, duration, fixed, ms, percent, perSecond, plainMs, spreadText, wholePercent } from './format.js';

describe('numbers as people read them', () => {
  it('counts with thousands separators, and milliseconds rounded, – for no figure', () => {
    expect(count(1234567)).toBe('1,234,567');
    expect(ms(1234.6)).toBe('1,235 ms');
    expect(ms(null)).toBe('–');
    expect(perSecond(2500)).toBe('2,500/s');
  });

  it('keeps the plain forms check details and the job summary were recorded with', () => {
    expect(plainMs(3012.4)).toBe('3012 ms');
    expect(plainMs(undefined)).toBe('–');
    expect(wholePercent(0.046)).toBe('5%');
  });

  it('gives a small share its decimal', () => {
    expect(percent(0.42)).toBe('42%');
    expect(percent(0.004)).toBe('0.4%');
  });

  it('writes fixed decimals and a spread as median (min–max)', () => {
    expect(fixed(1234.56, 1)).toBe('1,234.6');
    expect(spreadText({ median: 7, min: 4, max: 51 }, 0, ' ms')).toBe('7 ms (4–51)');
    expect(spreadText(null)).toBe('–');
  });

  it('says durations the way people do', () => {
    expect(duration(250)).toBe('250 ms');
    expect(duration(60_000)).toBe('60 s');
    expect(duration(1_500)).toBe('1.5 s');
    expect(duration(1_200_000)).toBe('20 min');
  });
});
