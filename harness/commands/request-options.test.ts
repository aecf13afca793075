import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/processes.js';
import { parseRequestSpec, readRequests, requestFromConfig } from './request-options.js';

describe('--request METHOD PATH [@bodyfile]', () => {
  it('reads a GET, and a POST with its body and a Content-Type from the file name', () => {
    expect(parseRequestSpec('get /items?page=2')).toEqual({
      name: 'GET /items?page=2',
      method: 'GET',
      path: '/items?page=2',
      headers: {},
      body: null,
      weight: 1,
    });
    const file = join(tempDir(), 'order.json');
    writeFileSync(file, '{"sku":42}');
    expect(parseRequestSpec(`POST /submit @${file}`)).toEqual({
      name: 'POST /submit',
      method: 'POST',
      path: '/submit',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from('{"sku":42}'),
      weight: 1,
    });
  });

  it.each([
    ['GET', /is not 'METHOD PATH \[@bodyfile\]'; use e\.g\./],
    ['POST /a b', /is not 'METHOD PATH \[@bodyfile\]'/],
    ['G(T /', /"G\(T" is not an HTTP method/],
    ['GET items', /"items" is not a path: give one that starts with \//],
    ['GET /a%0d%0a', null],
    ['POST /submit @', /name the body file after @/],
    [
      'POST /submit @/nonexistent/body.json',
      /cannot read the body file \/nonexistent\/body\.json \(ENOENT\); give a file that exists/,
    ],
  ])('refuses %j in one line', (spec, message) => {
    if (message === null) return void expect(parseRequestSpec(spec).path).toBe('/a%0d%0a'); // percent-encoded is fine
    expect(() => parseRequestSpec(spec)).toThrow(message);
  });
});

describe('requests in a config file', () => {
  it('takes headers, a body and a weight, and names the kind', () => {
    expect(
      requestFromConfig(
        { name: 'order', method: 'post', path: '/submit', headers: { 'X-Token': 't' }, body: 'hi', weight: 3 },
        0,
      ),
    ).toEqual({
      name: 'order',
      method: 'POST',
      path: '/submit',
      headers: { 'X-Token': 't' },
      body: Buffer.from('hi'),
      weight: 3,
    });
    expect(() => requestFromConfig({ method: 'POST', path: '/x', body: 'a', bodyFile: 'b' }, 2)).toThrow(
      'requests[2]: give body or bodyFile, not both',
    );
    // Nothing of a config file splits a request: a CR/LF in a path or a header value is refused.
    expect(() => requestFromConfig({ method: 'GET', path: '/x\r\nGET /admin HTTP/1.1' }, 0)).toThrow(
      /requests\[0\]: ".*" holds a space, a control character/,
    );
    expect(() => requestFromConfig({ method: 'GET', path: '/x', headers: { 'X-A': 'v\r\nX-B: 1' } }, 1)).toThrow(
      'requests[1]: the value of header X-A holds a control character (CR, LF, NUL...): it cannot go onto the wire',
    );
    expect(() => requestFromConfig({ method: 'GET', path: '/x', headers: { 'X A': 'v' } }, 1)).toThrow(
      'requests[1]: the header name "X A" is not an RFC 9110 token',
    );
    expect(() => requestFromConfig({ method: 'POST', path: '/x', bodyFile: '/nonexistent' }, 1)).toThrow(
      /^requests\[1\]: cannot read the body file \/nonexistent/,
    );
  });

  it('lets the command line win over the file, and refuses a kind given twice', () => {
    expect(
      readRequests({ request: ['GET /a'], requests: [{ method: 'GET', path: '/b' }] })!.map((k) => k.name),
    ).toEqual(['GET /a']);
    expect(readRequests({})).toBeNull();
    expect(() => readRequests({ request: ['GET /a', 'get /a'] })).toThrow(
      'the request "GET /a" is given twice; give it once with a weight, or name each (name in the config file)',
    );
  });
});
