import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findOnPath, isCI } from './ci.js';
import { cleanup, tempDir } from './processes.js';

afterEach(cleanup);

describe('isCI', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['FALSE', false],
    ['0', false],
    ['true', true],
    ['1', true],
  ])('CI=%s → %s', (value, expected) => {
    expect(isCI(value === undefined ? {} : { CI: value })).toBe(expected);
  });
});

describe('findOnPath', () => {
  it('finds the first executable of the names, in PATH order, and skips non-executables', () => {
    const [a, b] = [tempDir(), tempDir()];
    writeFileSync(join(a, 'chromium'), '');
    writeFileSync(join(b, 'chromium'), '');
    chmodSync(join(b, 'chromium'), 0o755);
    expect(findOnPath(['chromium', 'chromium-browser'], `${a}:${b}`)).toBe(join(b, 'chromium'));
    expect(findOnPath(['nothing-like-this'], `${a}:${b}`)).toBeUndefined();
  });
});
