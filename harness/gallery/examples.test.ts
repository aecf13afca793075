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

  it('has HTTP/2 examples, gated over h2c, and a gRPC one gated with the health service', () => {
    const scenarioOf = (name: string) => {
      const example = EXAMPLES.find((e) => e.name === name)!;
      return resolve(['--config', join(ROOT, example.config)]).scenario;
    };
    const h2 = ['node-h2', 'node20-h2', 'grpc-go', 'nginx-h2c'];
    expect(h2.map((name) => scenarioOf(name).protocol)).toEqual(['h2c', 'h2c', 'h2c', 'h2c']);
    expect(scenarioOf('grpc-go').grpc).toBe('health');
  });

  it('builds node20-h2 on Node 20 and the rest on the default', () => {
    expect(EXAMPLES.filter((e) => e.nodeVersion).map((e) => [e.name, e.nodeVersion])).toEqual([['node20-h2', '20']]);
  });
});
