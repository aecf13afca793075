// Target text made safe for each medium it reaches, and every view of a run
// whose target wrote escape sequences, XML-forbidden characters, HTML and
// Markdown into everything it controls: the terminal shows none of them,
// junit.xml stays XML, summary.md renders no HTML, link or image.
import chalk from 'chalk';
import { beforeAll, describe, expect, it } from 'vitest';
import { healthy, restart, scenario, t0 } from '../../test/fixtures/scenario-result.js';
import { toResultDocument } from '../result/document.js';
import { judge } from '../verdict.js';
import { junitXml, markdownSummary } from './ci-summary.js';
import { forMarkdownCell, forTerminal, forXml } from './safe-text.js';
import { renderSummary } from './terminal.js';

/** What a hostile restart command prints: colour, a window title (OSC), a carriage return, a bell, NUL, HTML, an image, a link, a pipe and newlines. */
const HOSTILE =
  'boom \x1b[31mred\x1b[0m \x1b]0;pwned\x07 over\rwrite \x07\x00 <img src=x onerror=alert(1)> ![i](http://e/x.png) [l](http://e) a|b\nline two \\| end';

describe('forTerminal', () => {
  it('removes escape sequences and control characters, keeping the words, tabs and newlines', () => {
    expect(forTerminal(HOSTILE)).toBe(
      'boom red  overwrite  <img src=x onerror=alert(1)> ![i](http://e/x.png) [l](http://e) a|b\nline two \\| end',
    );
    expect(forTerminal('a\tb')).toBe('a\tb');
    expect(forTerminal('\x9b31m C1 CSI')).toBe('31m C1 CSI');
  });
});

describe('forXml', () => {
  it('leaves nothing XML 1.0 forbids, and escapes markup', () => {
    const text = forXml(HOSTILE);
    expect(text).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f]/);
    expect(text).not.toContain('<');
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(forXml('say "hi" & go')).toBe('say &quot;hi&quot; &amp; go');
    expect(forXml('\ud800 lone surrogate')).toBe(' lone surrogate');
  });
});

describe('forMarkdownCell', () => {
  it('renders no HTML, image or link, and cannot break out of its table cell', () => {
    const cell = forMarkdownCell(HOSTILE);
    expect(cell).not.toMatch(/[<>\n\r\x1b]/);
    expect(cell).not.toMatch(/(^|[^\\])[[\]|]/);
    expect(cell).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // The target's own backslash cannot undo an escape: \| becomes \\\|.
    expect(cell).toContain('two \\\\\\| end');
  });

  it('leaves ordinary text as it is', () => {
    expect(forMarkdownCell('restart #1: 2 silent_loss, p99 5 ms (keep-alive)')).toBe(
      'restart #1: 2 silent_loss, p99 5 ms (keep-alive)',
    );
  });
});

describe('the views of a run whose target wrote everything it could', () => {
  beforeAll(() => {
    chalk.level = 1; // colour on: the view's own escapes stay, the target's go
  });

  function hostileDoc() {
    const failed = { ...restart(1, 1, 2, t0 + 1000, 7), messages: HOSTILE };
    const run = scenario(healthy, { restarts: [failed] });
    return toResultDocument(run, judge(run));
  }

  it('the terminal shows no escape sequence of the target', () => {
    const text = renderSummary(hostileDoc());
    // chalk's own SGR codes (ESC [ n m) stay; no OSC, no bell, no lone CR, no NUL.
    expect(text).not.toMatch(/\x1b\]|\x07|\r|\x00/);
    expect(text.replace(/\x1b\[\d+(;\d+)*m/g, '')).not.toContain('\x1b');
    expect(text).toContain('restart 1 exited 7: boom red');
  });

  it('junit.xml holds nothing XML forbids and no markup of the target', () => {
    const junit = junitXml(hostileDoc());
    expect(junit).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f]/);
    expect(junit).not.toContain('<img');
    expect(junit).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // Every attribute value is closed before the next tag: a quote of the target's is escaped.
    for (const testcase of junit.match(/<testcase [^\n]*/g)!)
      expect(testcase).toMatch(
        /^<testcase classname="[^"]*" name="[^"]*">(<failure message="[^"]*"\/>|<skipped message="[^"]*"\/>|<error message="[^"]*"\/>)?<\/testcase>$/,
      );
  });

  it('summary.md renders no HTML, image or link of the target, and its tables hold', () => {
    const md = markdownSummary(hostileDoc());
    expect(md).not.toMatch(/<img|!\[i\]\(|[^\\]\[l\]\(/);
    expect(md).not.toMatch(/\x1b|\x07|\r/);
    // Each table row has as many unescaped pipes as its header.
    const rows = md.split('\n').filter((line) => line.startsWith('| '));
    for (const row of rows)
      expect(row.replace(/\\\\/g, '').replace(/\\\|/g, '').split('|').length).toBeGreaterThanOrEqual(3);
    expect(md.split('\n').filter((line) => line.startsWith('| ❌ every restart exited 0'))).toHaveLength(1);
  });
});
