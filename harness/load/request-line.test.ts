// What may go onto the wire: methods and header names are tokens, paths are
// visible ASCII after a slash, header values hold no control character. A
// CR/LF anywhere would split the request in two.
import { describe, expect, it } from 'vitest';
import { headerProblem, methodProblem, pathProblem } from './request-line.js';

describe('request-line checks', () => {
  it('take ordinary methods, paths and headers', () => {
    expect(methodProblem('GET')).toBeUndefined();
    expect(pathProblem('/slow?ms=2000&x=%20y')).toBeUndefined();
    expect(headerProblem('Authorization', 'Bearer abc.def')).toBeUndefined();
    expect(headerProblem('X-Note', 'tab\tand obs-text \xe9')).toBeUndefined();
  });

  it.each([
    ['/a\r\nGET /b HTTP/1.1', 'a CR/LF: a second request'],
    ['/a b', 'a space'],
    ['/a\x00', 'a NUL'],
    ['/é', 'a non-ASCII character'],
    ['a', 'no leading slash'],
  ])('refuse the path %j (%s)', (path) => {
    expect(pathProblem(path)).toBeDefined();
  });

  it('refuse a method or header that is not a token, and a value with CR, LF or NUL', () => {
    expect(methodProblem('GET /x')).toMatch(/not an HTTP method/);
    expect(headerProblem('X Bad', 'v')).toMatch(/not an RFC 9110 token/);
    expect(headerProblem('X-Ok', 'v\r\nX-Injected: 1')).toMatch(/control character/);
    expect(headerProblem('X-Ok', 'v\x00')).toMatch(/control character/);
  });
});
