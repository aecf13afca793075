// Numbers as people read them, for every check, view and table: each form
// once, here. Two forms stay apart on purpose: check details and the job
// summary write milliseconds without a thousands separator, and evidence
// writes shares as whole percents, as every recorded run has them (tools match
// on the details' wording).

/** 12,345 */
export const count = (n: number): string => n.toLocaleString('en-US');

/** `1 session`, `12,345 sessions`: a count with its noun. */
export const counted = (n: number, noun: string, plural = `${noun}s`): string =>
  `${count(n)} ${n === 1 ? noun : plural}`;

/** 1,234 ms, rounded to the millisecond; – when there is no figure. */
export const ms = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : `${count(Math.round(value))} ms`;

/** 1234 ms, for check details and the job summary; – when there is no figure. */
export const plainMs = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : `${Math.round(value)} ms`;

/** 1,234/s */
export const perSecond = (n: number): string => `${count(n)}/s`;

/** 42% of a share in [0, 1]; under a tenth with one decimal (0.4%), where a whole percent says too little. */
export const percent = (share: number): string => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

/** 42%, always whole: the evidence in a check's detail. */
export const wholePercent = (share: number): string => `${Math.round(share * 100)}%`;

/** 1,234.5 with exactly `digits` decimals. */
export const fixed = (v: number, digits = 0): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A spread as its median and range: 12 (9–15), with `unit` after the median; – when there is none. */
export const spreadText = (s: { median: number; min: number; max: number } | null, digits = 0, unit = ''): string =>
  s ? `${fixed(s.median, digits)}${unit} (${fixed(s.min, digits)}–${fixed(s.max, digits)})` : '–';

/** "250 ms", "60 s", "1.5 s", "20 min": a limit as people say it. */
export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Number((ms / 1000).toFixed(1))} s`;
}
