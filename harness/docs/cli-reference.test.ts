// docs/cli.md is the commands' own --help: this fails when a flag changed
// and `npm run docs` was not run.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI_REFERENCE_FILE, cliReference } from './cli-reference.js';

describe('docs/cli.md', () => {
  it('is what npm run docs writes from the commands (run it after changing a flag)', () => {
    expect(readFileSync(CLI_REFERENCE_FILE, 'utf8')).toBe(cliReference());
  });

  it('has every command, and the exit codes once', () => {
    const text = cliReference();
    for (const name of ['poc', 'gate', 'compare', 'gallery', 'bench', 'report'])
      expect(text).toContain(`## ${name}\n\n\`\`\`text\nUsage: reuseport-lab ${name} [options]`);
    expect(text.match(/130 {2}interrupted/g)).toHaveLength(1);
  });
});
