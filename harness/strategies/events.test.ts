import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCRIPTS } from '../../test/processes.js';
import { parseRestartEvents, RESTART_EVENT_NAMES } from './events.js';

/** Every event name the shell scripts (scripts/, lib/, systemd/) can emit: `emit NAME`, and `stop_processes KIND` (KIND_signalled, ...). */
function emittedByScripts(): Set<string> {
  const names = new Set<string>();
  const files = ['.', 'lib', 'systemd'].flatMap((dir) =>
    readdirSync(join(SCRIPTS, dir)).map((f) => join(SCRIPTS, dir, f)),
  );
  for (const file of files) {
    if (!file.endsWith('.sh')) continue;
    // Code only: comments speak of emit too.
    const text = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !/^\s*#/.test(line))
      .join('\n');
    for (const [, name] of text.matchAll(/\bemit ([a-z_]+)/g)) names.add(name!);
    for (const [, kind] of text.matchAll(/stop_processes ([a-z]+) /g))
      for (const end of ['signalled', 'exited', 'killed']) names.add(`${kind}_${end}`);
  }
  return names;
}

describe('the restart event vocabulary', () => {
  it('holds every name the scripts emit', () => {
    const emitted = emittedByScripts();
    expect(emitted.size).toBeGreaterThan(10);
    expect([...emitted].filter((name) => !(RESTART_EVENT_NAMES as readonly string[]).includes(name))).toEqual([]);
  });

  it("keeps a PID only when it is one: a restart command of someone else's may print anything", () => {
    const stdout = [
      '{"ts":1,"event":"new_started","pid":"42; rm -rf /"}',
      '{"ts":2,"event":"new_ready","pid":-3}',
      '{"ts":3,"event":"old_exited","pid":41.5}',
      '{"ts":"soon","event":"old_exited","pid":41}',
      '{"ts":4,"event":"old_exited","pid":41}',
    ].join('\n');
    expect(parseRestartEvents(stdout)).toEqual([
      { ts: 1, event: 'new_started' },
      { ts: 2, event: 'new_ready' },
      { ts: 3, event: 'old_exited' },
      { ts: 4, event: 'old_exited', pid: 41 },
    ]);
  });

  it('parses the JSON lines of a restart and skips everything else', () => {
    const stdout = [
      '{"ts":1,"event":"new_started","pid":42}',
      'a line of a server',
      '{"ts":2,"event":"something_else"}',
      '{not json',
      '{"ts":3,"event":"old_exited","pid":41,"after_ms":58}',
    ].join('\n');
    expect(parseRestartEvents(stdout)).toEqual([
      { ts: 1, event: 'new_started', pid: 42 },
      { ts: 3, event: 'old_exited', pid: 41, after_ms: 58 },
    ]);
  });
});
