// The gate's pieces that need no server: how a command line is split, how a
// response names its process, readiness and identity specs, which targets
// may be loaded, and how flags and a config file combine.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../../test/processes.js';
import { describe, expect, it } from 'vitest';
import { SetupError } from '../errors.js';
import { tempDir } from '../../test/processes.js';
import { checkForeign, IdentityNames, parseIdentity } from '../load/identity.js';
import { UNKNOWN_PID } from '../load/response-check.js';
import { CommandLineError, splitCommand } from '../runtime/command-line.js';
import { parseReady, readyStrategy } from '../runtime/readiness.js';
import { checkTargetUrl } from '../runtime/target/url.js';
import { parseGateArgs } from './gate.js';

const headers = (map: Record<string, string>) => (name: string) => map[name];

const resolve = parseGateArgs;

describe('splitCommand', () => {
  it('splits like a shell, without one', () => {
    expect(splitCommand('nginx -s reload')).toEqual(['nginx', '-s', 'reload']);
    expect(splitCommand(`sh -c 'kill -HUP 1 && echo "done"'`)).toEqual(['sh', '-c', 'kill -HUP 1 && echo "done"']);
    expect(splitCommand('a\\ b "c \\"d\\"" $HOME')).toEqual(['a b', 'c "d"', '$HOME']);
    expect(splitCommand("x ''")).toEqual(['x', '']);
  });

  it('refuses an unbalanced quote and an empty command', () => {
    expect(() => splitCommand("kill 'oops")).toThrow(CommandLineError);
    expect(() => splitCommand('   ')).toThrow(/empty/);
  });
});

describe('identity', () => {
  it('reads a PID from a header or from the first group of a body regex; anything else answered is an unknown PID', () => {
    expect(checkForeign(parseIdentity('header:X-Worker'), 200, headers({ 'x-worker': '42' }), '')).toEqual({
      ok: true,
      pid: 42,
      version: '',
    });
    expect(checkForeign(parseIdentity('body:PID: (\\d+)'), 200, headers({}), 'OK. Handled by PID: 7\n')).toMatchObject({
      ok: true,
      pid: 7,
    });
    expect(checkForeign(parseIdentity('body:PID: (\\d+)'), 200, headers({}), 'hello')).toMatchObject({
      ok: true,
      pid: UNKNOWN_PID,
    });
    expect(checkForeign(parseIdentity('header:x-worker'), 200, headers({ 'x-worker': 'web-1' }), '')).toMatchObject({
      ok: true,
      pid: UNKNOWN_PID,
    });
    expect(checkForeign(parseIdentity('none'), 204, headers({ 'x-server-pid': '9' }), '')).toMatchObject({
      ok: true,
      pid: UNKNOWN_PID,
    });
  });

  it('numbers identities that are names (a replica host name) in the order first seen, and says which is which', () => {
    const names = new IdentityNames();
    const host = (name: string) =>
      checkForeign(parseIdentity('header:x-server-host'), 200, headers({ 'x-server-host': name }), '', names);
    expect([host('263d70d210a6'), host('86906497298d'), host('263d70d210a6')].map((c) => (c.ok ? c.pid : -1))).toEqual([
      1, 2, 1,
    ]);
    expect(names.names()).toEqual({ '1': '263d70d210a6', '2': '86906497298d' });
    // A number is still a PID; a whole page is no name.
    expect(checkForeign(parseIdentity('header:x-worker'), 200, headers({ 'x-worker': '42' }), '', names)).toMatchObject(
      { pid: 42 },
    );
    expect(checkForeign(parseIdentity('body:(.*)'), 200, headers({}), 'not a name at all', names)).toMatchObject({
      pid: UNKNOWN_PID,
    });
  });

  it("sends a unary method of the user's .proto as the load over h2c (--grpc-method), and says what is missing", () => {
    const url = ['--url', 'http://127.0.0.1:8080/', '--restart', 'true'];
    const proto = join(ROOT, 'test/fixtures/grpc/shop.proto');
    const options = resolve([
      ...url,
      '--grpc-proto',
      proto,
      '--grpc-method',
      'shop.Cart/Add',
      '--grpc-body',
      '{"item":"tea"}',
    ]);
    expect(options.scenario).toMatchObject({
      protocol: 'h2c',
      grpcMethod: 'shop.Cart/Add',
      requests: [{ name: 'gRPC shop.Cart/Add', path: '/shop.Cart/Add' }],
    });
    expect(() => resolve([...url, '--grpc-method', 'shop.Cart/Add'])).toThrow(/--grpc-method needs --grpc-proto FILE/);
    expect(() => resolve([...url, '--grpc-proto', proto])).toThrow(
      /--grpc-proto needs --grpc-method pkg.Service\/Method/,
    );
    expect(() =>
      resolve([...url, '--grpc-proto', proto, '--grpc-method', 'shop.Cart/Add', '--request', 'GET /']),
    ).toThrow(/--grpc-method sends shop.Cart\/Add as the load; drop --request/);
  });

  it('pairs --protocol with the target: h2 over HTTPS only, h2c over clear text only', () => {
    const restart = ['--restart', 'true'];
    expect(resolve(['--url', 'https://127.0.0.1:8443/', '--protocol', 'h2', ...restart]).scenario).toMatchObject({
      protocol: 'h2',
    });
    expect(resolve(['--url', 'http://127.0.0.1:8080/', '--protocol', 'h2c', ...restart]).scenario).toMatchObject({
      protocol: 'h2c',
    });
    expect(() => resolve(['--url', 'http://127.0.0.1:8080/', '--protocol', 'h2', ...restart])).toThrow(
      /--protocol h2 is HTTP\/2 over TLS: give an https:\/\/ --url/,
    );
    expect(() => resolve(['--url', 'https://127.0.0.1:8443/', '--protocol', 'h2c', ...restart])).toThrow(
      /--protocol h2c is HTTP\/2 in clear text; over HTTPS use --protocol h2/,
    );
  });

  it('defaults a swarm service to the host name our server sends, and its update to docker service update', () => {
    const options = resolve(['--swarm-service', 'shop_web', '--url', 'http://127.0.0.1:8080/']);
    expect(options.target).toMatchObject({ kind: 'swarm', service: 'shop_web' });
    expect(options.identity).toEqual({ kind: 'header', name: 'x-server-host' });
    expect(options.restart).toBe('docker service update --force --quiet shop_web');
    expect(() => resolve(['--swarm-service', 'shop web'])).toThrow(/is not a service name/);
    expect(() => resolve(['--swarm-service', 'shop_web', '--port', '80'])).toThrow(
      /--port is for --image; with --swarm-service the service runs as it is/,
    );
  });

  it('fails what is not 2xx, whatever it says', () => {
    expect(checkForeign(parseIdentity('header:x-server-pid'), 503, headers({ 'x-server-pid': '9' }), '')).toEqual({
      ok: false,
      cause: 'non_2xx',
    });
  });

  it('refuses a spec it cannot use, in one line', () => {
    expect(() => parseIdentity('cookie:x')).toThrow(/header:NAME, body:REGEX or none/);
    expect(() => parseIdentity('body:(')).toThrow(/not a valid regular expression/);
    expect(() => parseIdentity('header:bad name')).toThrow();
  });
});

describe('readiness and targets', () => {
  it('parses every readiness spec and refuses others', () => {
    expect(parseReady('port')).toEqual({ kind: 'port' });
    expect(parseReady('http:/healthz')).toEqual({ kind: 'http', path: '/healthz' });
    expect(parseReady('log:listening on \\d+')).toMatchObject({ kind: 'log', source: 'listening on \\d+' });
    expect(parseReady('delay:1500')).toEqual({ kind: 'delay', ms: 1500 });
    expect(parseReady('healthcheck')).toEqual({ kind: 'healthcheck' });
    expect(() => parseReady('http:healthz')).toThrow(SetupError);
    expect(() => parseReady('tcp')).toThrow(/port, http:\/PATH, log:REGEX, delay:MS or healthcheck/);
  });

  it("waits for the image's HEALTHCHECK to say healthy, and says so in one line when the image has none", async () => {
    const said = ['starting', 'starting', 'healthy'];
    const ready = readyStrategy(
      { kind: 'healthcheck' },
      { host: '127.0.0.1', port: 1 },
      { health: async () => said.shift()! },
    );
    expect([await ready.probe(), await ready.probe(), await ready.probe()]).toEqual([undefined, undefined, true]);
    const none = readyStrategy({ kind: 'healthcheck' }, { host: '127.0.0.1', port: 1 }, { health: async () => null });
    await expect(none.probe()).rejects.toThrow(/declares no HEALTHCHECK.*use --ready http:\/PATH or port/);
    expect(() => readyStrategy({ kind: 'healthcheck' }, { host: '127.0.0.1', port: 1 })).toThrow(/needs --image/);
  });

  it('loads loopback addresses only, unless the user says the target is theirs', () => {
    expect(checkTargetUrl('http://127.0.0.1:8080/x', false).pathname).toBe('/x');
    expect(checkTargetUrl('http://[::1]:8080/', false).hostname).toBe('[::1]');
    expect(checkTargetUrl('http://localhost:1/', false).port).toBe('1');
    expect(() => checkTargetUrl('http://10.1.2.3:80/', false)).toThrow(/not on this machine.*--i-own-this-target/);
    expect(() => checkTargetUrl('http://example.com/', false)).toThrow(/not on this machine/);
    expect(checkTargetUrl('http://10.1.2.3:80/', true).hostname).toBe('10.1.2.3');
    expect(checkTargetUrl('https://127.0.0.1/', false).protocol).toBe('https:');
    expect(() => checkTargetUrl('ftp://127.0.0.1/', false)).toThrow(/use an http:\/\/ or https:\/\/ URL/);
    expect(() => checkTargetUrl('nope', false)).toThrow(/not a URL/);
  });
});

describe('gate options', () => {
  it('takes the config file, with flags over it, and names a bad field', () => {
    const dir = tempDir('reuseport-lab-gate-config-');
    const file = join(dir, 'gate.json');
    writeFileSync(
      file,
      JSON.stringify({ image: 'mine:1', port: 8080, restart: 'kill -HUP 1', restarts: 5, identity: 'none' }),
    );
    const options = resolve(['--config', file, '--restarts', '2']);
    expect(options).toMatchObject({
      target: { kind: 'image', image: 'mine:1', port: 8080, restartOn: 'container' },
      restart: 'kill -HUP 1',
      scenario: { restarts: 2 },
      identity: { kind: 'none' },
      identityGiven: true,
    });
    writeFileSync(file, JSON.stringify({ image: 'mine:1', port: 'eighty', restart: 'x' }));
    expect(() => resolve(['--config', file])).toThrow(/gate\.json: port: must be integer/);
    writeFileSync(file, JSON.stringify({ image: 'mine:1', port: 80, restart: 'x', colour: 'blue' }));
    expect(() => resolve(['--config', file])).toThrow(/colour: unknown field/);
  });

  it('reads a request mix from the config file, its body files from beside it, and names what does not parse', () => {
    const dir = tempDir('reuseport-lab-gate-requests-');
    const file = join(dir, 'gate.json');
    writeFileSync(join(dir, 'order.json'), '{"sku":1}');
    const base = { image: 'mine:1', port: 8080, restart: 'x' };
    writeFileSync(
      file,
      JSON.stringify({
        ...base,
        requests: [
          { method: 'GET', path: '/', weight: 3 },
          { name: 'order', method: 'POST', path: '/submit', bodyFile: 'order.json' },
        ],
      }),
    );
    expect(resolve(['--config', file]).scenario.requests).toEqual([
      { name: 'GET /', method: 'GET', path: '/', headers: {}, body: null, weight: 3 },
      { name: 'order', method: 'POST', path: '/submit', headers: {}, body: Buffer.from('{"sku":1}'), weight: 1 },
    ]);
    writeFileSync(file, JSON.stringify({ ...base, requests: [{ method: 'POST' }] }));
    expect(() => resolve(['--config', file])).toThrow(/gate\.json: requests\/0: must have required property 'path'/);
    writeFileSync(
      file,
      JSON.stringify({ ...base, requests: [{ method: 'POST', path: '/', bodyFile: 'missing.json' }] }),
    );
    expect(() => resolve(['--config', file])).toThrow(
      /requests\[0\]: cannot read the body file .*missing\.json \(ENOENT\)/,
    );
    writeFileSync(file, '{ "requests": [');
    expect(() => resolve(['--config', file])).toThrow(/gate\.json: not JSON/);
    writeFileSync(file, JSON.stringify({ ...base, path: '/x', requests: [{ method: 'GET', path: '/' }] }));
    expect(() => resolve(['--config', file])).toThrow(/give --path or a request mix \(--request, requests\), not both/);
  });

  it('says what is missing or does not fit, in one line', () => {
    expect(() => resolve([])).toThrow(
      /--image IMAGE --port N, --compose FILE --service NAME --port N, --url http:\/\/127.0.0.1:PORT\/, or --swarm-service NAME/,
    );
    expect(() => resolve(['--image', 'x', '--restart', 'y'])).toThrow(/--image needs --port/);
    expect(() => resolve(['--image', 'x', '--port', '1'])).toThrow(/--restart is required/);
    expect(() => resolve(['--url', 'http://127.0.0.1:1/', '--restart', 'y', '--port', '2'])).toThrow(
      /--port is for --image/,
    );
    expect(() => resolve(['--image', 'x', '--port', '1', '--restart', "kill 'oops"])).toThrow(/--restart: unbalanced/);
  });

  it('gates a service of a Compose file, the file named from the config that names it, and says what is missing', () => {
    const fixture = join(ROOT, 'test/fixtures/compose/docker-compose.yml');
    const compose = ['--compose', fixture, '--restart', 'y'];
    expect(resolve([...compose, '--service', 'web', '--port', '8080']).target).toEqual({
      kind: 'compose',
      file: fixture,
      service: 'web',
      port: 8080,
      restartOn: 'container',
    });
    const dir = tempDir();
    writeFileSync(
      join(dir, 'gate.json'),
      JSON.stringify({ compose: relative(dir, fixture), service: 'web', port: 8080, restart: 'y' }),
    );
    expect(resolve(['--config', join(dir, 'gate.json')]).target).toMatchObject({ kind: 'compose', service: 'web' });
    expect(() => resolve([...compose, '--port', '8080'])).toThrow(/--compose needs --service/);
    expect(() => resolve([...compose, '--port', '8080', '--service', 'a b'])).toThrow(/'a b' is not a service name/);
    expect(() => resolve([...compose, '--service', 'web'])).toThrow(/--compose needs --port/);
    expect(() => resolve([...compose, '--service', 'web', '--port', '1', '--env', 'A=1'])).toThrow(
      /--env is for --image; with --compose, set it in the Compose file/,
    );
    expect(() => resolve(['--compose', '/nowhere.yml', '--service', 'web', '--port', '1', '--restart', 'y'])).toThrow(
      /--compose \/nowhere\.yml: no such file/,
    );
    expect(() => resolve(['--image', 'x', '--port', '1', '--restart', 'y', '--service', 'web'])).toThrow(
      /--service is for --compose/,
    );
  });

  it("runs an image with a command, mounts and a network of the user's, and refuses them for a URL", () => {
    const options = resolve([
      '--image',
      'x',
      '--port',
      '1',
      '--restart',
      'y',
      '--command',
      "node server.js --name 'a b'",
      '--volume',
      './data:/data:ro',
      '--volume',
      'cache:/cache',
      '--network',
      'shop_default',
    ]);
    expect(options.target).toMatchObject({
      command: ['node', 'server.js', '--name', 'a b'],
      volumes: [`${process.cwd()}/data:/data:ro`, 'cache:/cache'],
      network: 'shop_default',
    });
    const image = ['--image', 'x', '--port', '1', '--restart', 'y'];
    expect(() => resolve([...image, '--volume', 'data'])).toThrow(
      /--volume "data": give SOURCE:DEST or SOURCE:DEST:ro/,
    );
    expect(() => resolve([...image, '--volume', 'data:relative'])).toThrow(/DEST an absolute path/);
    expect(() => resolve([...image, '--network', 'a b'])).toThrow(/is not a network name/);
    expect(() => resolve([...image, '--command', "x 'y"])).toThrow(/--command: unbalanced/);
    expect(() => resolve(['--url', 'http://127.0.0.1:1/', '--restart', 'y', '--network', 'n'])).toThrow(
      /--network is for --image/,
    );
  });

  it('loads the path of the URL and is ready when it answers 2xx, by default', () => {
    const options = resolve(['--url', 'http://127.0.0.1:9/api/ping?x=1', '--restart', 'true']);
    expect(options).toMatchObject({
      path: '/api/ping?x=1',
      ready: { kind: 'http', path: '/api/ping?x=1' },
      identityGiven: false,
    });
  });
});
