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

describe('examples/gate.complete.json', () => {
  const file = join(ROOT, 'examples/gate.complete.json');

  it('is a configuration the gate accepts', () => {
    const options = resolve(['--config', file]);
    expect(options.target).toMatchObject({ kind: 'image', image: 'reuseport-lab:local' });
    expect(options.scenario.requests?.map((kind) => kind.name)).toEqual(['page', 'form']);
  });

  it('sets every key of gate-config.schema.json but those of other targets and protocols', async () => {
    const { default: schema } = await import('../commands/gate-config.schema.json', { with: { type: 'json' } });
    const { readFileSync } = await import('node:fs');
    const set = Object.keys(JSON.parse(readFileSync(file, 'utf8')));
    // Another target (url, swarmService, iOwnThisTarget, compose and its service), HTTPS (tls, insecure), HTTP/2 and gRPC, a fixed rate
    // instead of loadShare, one path instead of the mix, and keep (the container left running): each would change
    // what this file runs. A command, a mount or a network of its own are your machine's and your image's.
    const elsewhere = [
      'url',
      'swarmService',
      'iOwnThisTarget',
      'tls',
      'insecure',
      'protocol',
      'retryRefused',
      'grpc',
      'grpcMethod',
      'grpcProto',
      'grpcBody',
      'rate',
      'path',
      'keep',
      'command',
      'volume',
      'network',
      'compose',
      'service',
    ];
    expect(
      Object.keys(schema.properties)
        .filter((key) => !set.includes(key))
        .sort(),
    ).toEqual(elsewhere.sort());
  });
});
