// Every example of the gallery is a gate configuration the gate accepts as it
// stands: its file checked against the schema, its settings against each
// other (an HTTP/2 example's protocol against its target, say), before
// anyone builds an image to find out.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/processes.js';
import { parseGateArgs } from '../commands/gate.js';
import { EXAMPLES } from './examples.js';

const resolve = parseGateArgs;

describe('the gallery', () => {
  it.each(EXAMPLES.map((example) => [example.name, example] as const))(
    '%s: its gate.json is a configuration the gate accepts, for the image the gallery builds',
    (_name, example) => {
      const options = resolve(['--config', join(ROOT, example.config)]);
      expect(options.target).toMatchObject({ kind: 'image', image: example.image });
    },
  );

  it('has HTTP/2 examples, gated over h2c', () => {
    const h2 = EXAMPLES.filter((e) => ['node-h2', 'nginx-h2c'].includes(e.name));
    expect(h2.map((e) => resolve(['--config', join(ROOT, e.config)]).scenario.protocol)).toEqual(['h2c', 'h2c']);
  });
});
