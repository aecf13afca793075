import { describe, expect, it } from 'vitest';
import { isIdempotent, plainGet, requestBytes, weightedOrder } from './request-mix.js';

describe('weightedOrder', () => {
  it('gives each kind its weight in one round, spread out rather than in runs', () => {
    expect(weightedOrder([1])).toEqual([0]);
    expect(weightedOrder([3, 1])).toEqual([0, 0, 1, 0]);
    const order = weightedOrder([5, 3, 2]);
    expect(order).toHaveLength(10);
    expect([0, 1, 2].map((k) => order.filter((o) => o === k).length)).toEqual([5, 3, 2]);
    // No kind twice in a row where the weights leave room: 1:1 alternates.
    expect(weightedOrder([1, 1, 1])).toEqual([0, 1, 2]);
  });
});

describe('requestBytes', () => {
  it('writes the method, path, headers and a Content-Length for the body', () => {
    const bytes = requestBytes(
      {
        method: 'POST',
        path: '/submit',
        headers: { 'Content-Type': 'application/json' },
        body: Buffer.from('{"a":1}'),
      },
      '127.0.0.1',
      8080,
      true,
    );
    expect(bytes.toString()).toBe(
      'POST /submit HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"a":1}',
    );
    expect(requestBytes(plainGet('/x'), '::1', 80, false).toString()).toBe('GET /x HTTP/1.1\r\nHost: [::1]:80\r\n\r\n');
  });
});

describe('isIdempotent', () => {
  it('follows RFC 9110: GET, HEAD, PUT, DELETE are; POST and PATCH are not', () => {
    expect(['GET', 'head', 'PUT', 'DELETE', 'OPTIONS'].every(isIdempotent)).toBe(true);
    expect(['POST', 'PATCH', 'post'].some(isIdempotent)).toBe(false);
  });
});
