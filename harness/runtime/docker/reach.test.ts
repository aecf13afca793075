import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { SetupError } from '../../errors.js';
import { containerAddress, reachFromHere } from './reach.js';

describe('reachFromHere', () => {
  it('publishes on 127.0.0.1 unless told the gate runs in a container', () => {
    expect(reachFromHere({})).toBe('published');
    expect(reachFromHere({ REUSEPORT_LAB_REACH: 'published' })).toBe('published');
    expect(reachFromHere({ REUSEPORT_LAB_REACH: 'container-address' })).toBe('container-address');
  });

  it('refuses another value in one line that lists the two', () => {
    expect(() => reachFromHere({ REUSEPORT_LAB_REACH: 'host' })).toThrow(SetupError);
    expect(() => reachFromHere({ REUSEPORT_LAB_REACH: 'host' })).toThrow(
      /REUSEPORT_LAB_REACH=host is not a way to reach a container; use published .* or container-address/,
    );
  });
});

describe('containerAddress', () => {
  const inspected = (networks: Record<string, { IPAddress: string }>) =>
    ({ NetworkSettings: { Networks: networks } }) as unknown as Docker.ContainerInspectInfo;

  it("takes the first network's address that is set", () => {
    expect(containerAddress(inspected({ none: { IPAddress: '' }, bridge: { IPAddress: '172.17.0.3' } }))).toBe(
      '172.17.0.3',
    );
  });

  it('is undefined for a container on no network', () => {
    expect(containerAddress(inspected({ none: { IPAddress: '' } }))).toBeUndefined();
  });
});
