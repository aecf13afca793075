import { describe, expect, it } from 'vitest';
import { helpText, parseOptions } from './poc.js';

describe('parseOptions', () => {
  it('has defaults for everything', () => {
    expect(parseOptions([])).toMatchObject({ runtime: 'auto', strategy: 'reuseport', load: 'both', connections: 50, restarts: 3, intervalMs: 2000, overlapMs: 500, reportDir: 'reports', build: true });
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'; see --help/],
    [['--connections', 'many'], /--connections "many" is not valid/],
    [['--connections', '-5'], /--connections/],
    [['--restarts', '2.5'], /--restarts 2.5 must be a whole number/],
    [['--strategy', 'yolo'], /--strategy "yolo" is not one of reuseport, handoff, naive/],
    [['--runtime', 'local', '--keep'], /--keep and --skip-build apply to the docker runtime only/],
    [['--overlap', '3000', '--interval', '2'], /--overlap 3000 ms must be shorter than --interval/],
    [['extra'], /Unexpected argument 'extra'|Unexpected/],
  ])('%j is refused with one line', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it('documents every option with its default in --help', () => {
    const help = helpText();
    for (const flag of ['--runtime', '--strategy', '--load', '--connections', '--restarts', '--interval', '--report-dir', '--keep', '--skip-build']) {
      expect(help).toContain(flag);
    }
    expect(help).toContain('(default: 50)');
  });
});
