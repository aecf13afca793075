import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/processes.js';
import { helpText, parseOptions } from './poc.js';

describe('parseOptions', () => {
  it('has defaults for everything', () => {
    expect(parseOptions([])).toMatchObject({
      runtime: 'auto',
      strategy: 'reuseport',
      load: 'both',
      connections: 50,
      restarts: 3,
      intervalMs: 2000,
      overlapMs: 500,
      reportDir: 'reports',
      build: true,
    });
  });

  it('takes every duration with its unit, and a bare number in the unit the flag always had', () => {
    expect(
      parseOptions([
        '--interval',
        '1500ms',
        '--warmup',
        '0.05m',
        '--timeout',
        '4',
        '--latency-budget',
        '1.5s',
        '--overlap',
        '200',
        '--bucket',
        '0.1s',
        '--stop-timeout',
        '1m',
      ]),
    ).toMatchObject({
      intervalMs: 1500,
      warmupMs: 3000,
      requestTimeoutSeconds: 4,
      latencyBudgetMs: 1500,
      overlapMs: 200,
      bucketMs: 100,
      stopTimeout: 60,
    });
    expect(() => parseOptions(['--timeout', '10 seconds'])).toThrow(
      '--timeout "10 seconds" is not valid: give a duration from 1s to 600s, such as 10s or 500ms (a bare number is seconds)',
    );
    expect(() => parseOptions(['--latency-budget', '1.5ms'])).toThrow(
      '--latency-budget 1.5ms must be a whole number of ms',
    );
  });

  it('speaks HTTP/1.1 unless --protocol says h2c; refused streams are sent again only with --retry-refused', () => {
    expect(parseOptions([])).not.toHaveProperty('protocol');
    expect(parseOptions(['--protocol', 'h2c'])).toMatchObject({ protocol: 'h2c', retryRefused: false });
    expect(parseOptions(['--protocol', 'h2c', '--retry-refused'])).toMatchObject({
      protocol: 'h2c',
      retryRefused: true,
    });
  });

  it('--grpc health: Check calls over h2c as the load, Watch calls as the stream lane', () => {
    expect(parseOptions(['--grpc', 'health'])).toMatchObject({
      grpc: 'health',
      protocol: 'h2c',
      requests: [
        { method: 'POST', path: '/grpc.health.v1.Health/Check', headers: { 'content-type': 'application/grpc' } },
      ],
      stream: { kind: 'grpc', path: '/grpc.health.v1.Health/Watch', connections: 2 },
    });
  });

  it('drives the open model by default, at a calibrated share unless --rate is given', () => {
    expect(parseOptions([])).toMatchObject({ loadModel: 'open', rate: null, loadShare: 0.35, maxConnections: 256 });
    expect(parseOptions(['--rate', '250', '--max-connections', '64'])).toMatchObject({
      loadModel: 'open',
      rate: 250,
      maxConnections: 64,
    });
    expect(parseOptions(['--load-share', '0.25'])).toMatchObject({ rate: null, loadShare: 0.25 });
    expect(parseOptions(['--load-model', 'closed'])).toMatchObject({ loadModel: 'closed', rate: null });
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
    [['--load-model', 'burst'], /--load-model "burst" is not one of open, closed/],
    [
      ['--load-model', 'closed', '--rate', '100'],
      /--rate applies to the open model; drop it, or drop --load-model closed/,
    ],
    [['--rate', '0'], /--rate "0" is not valid: use a number from 1 to 1000000/],
    [['--rate', '100', '--load-share', '0.3'], /give one of them/],
    [['--max-connections', '0'], /--max-connections "0" is not valid/],
    [['--protocol', 'h3'], /--protocol "h3" is not one of http1, h2c, h2/],
    [['--protocol', 'h2c', '--load-model', 'closed'], /--protocol h2c runs in the open model only/],
    [['--retry-refused'], /--retry-refused applies to HTTP\/2 streams: add --protocol h2c or h2/],
    [
      ['--protocol', 'h2'],
      /--protocol h2 is HTTP\/2 over TLS, and poc runs our server in clear text: use --protocol h2c/,
    ],
    [['--fault', 'one-shot-goaway'], /--fault one-shot-goaway is an HTTP\/2 fault: add --protocol h2c/],
    [['--grpc', 'reflection'], /--grpc "reflection" is not one of health/],
    [
      ['--grpc-method', 'shop.Cart/Add', '--grpc-proto', 'test/fixtures/grpc/shop.proto'],
      /--grpc-method is for your own server \(reuseport-lab gate\)/,
    ],
    [
      ['--grpc', 'health', '--protocol', 'http1'],
      /--grpc health runs over HTTP\/2 \(h2c, or h2 to an HTTPS target\); drop --protocol http1/,
    ],
    [
      ['--grpc', 'health', '--request', 'GET /'],
      /--grpc health sends its own calls \(\/grpc.health.v1.Health\/Check\); drop --request/,
    ],
    [
      ['--grpc', 'health', '--stream', 'sse:/events'],
      /--grpc health keeps its own stream lane \(\/grpc.health.v1.Health\/Watch\); drop --stream/,
    ],
  ])('%j is refused with one line', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it('documents every option with its default in --help', () => {
    const help = helpText();
    for (const flag of [
      '--runtime',
      '--strategy',
      '--load',
      '--load-model',
      '--rate',
      '--load-share',
      '--max-connections',
      '--connections',
      '--restarts',
      '--interval',
      '--report-dir',
      '--keep',
      '--skip-build',
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain('(default: 50)');
  });
});

describe('reuseport-lab poc, from the command line', () => {
  it.each([
    ['--long', '/slow\r\nGET /admin HTTP/1.1'],
    ['--stream', 'sse:/events\r\nX-Injected: 1'],
    ['--request', 'GET /a\u0001b'],
  ])(
    'refuses %s with a CR, LF or other control character in one line, exit 2, before anything starts',
    (flag, value) => {
      const run = spawnSync(
        process.execPath,
        [join(ROOT, 'dist/harness/cli.js'), 'poc', '--runtime', 'local', flag, value],
        { encoding: 'utf8', timeout: 30_000 },
      );
      expect(run.status).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/control character/)]);
      expect(run.stdout).toBe('');
    },
  );
});
