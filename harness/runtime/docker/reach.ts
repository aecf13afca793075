// How the gate reaches a container it started. On the engine's host it
// publishes the port on 127.0.0.1. In a container of its own (the gate
// image, or a CI job's container with the engine's socket mounted)
// 127.0.0.1 is that container's own loopback: there it connects to the
// target's address on the engine's network, which both containers share.
// Which of the two applies is said, not guessed: a machine may itself be a
// container that runs the engine (this project's CI does), where the
// published port is the right way.
import type Docker from 'dockerode';
import { SetupError } from '../../errors.js';

export type Reach = 'published' | 'container-address';

export const REACH_VARIABLE = 'REUSEPORT_LAB_REACH';

/** REUSEPORT_LAB_REACH: unset or `published`, or `container-address` (set by the gate image). */
export function reachFromHere(env: NodeJS.ProcessEnv = process.env): Reach {
  const value = env[REACH_VARIABLE];
  if (value === undefined || value === '' || value === 'published') return 'published';
  if (value === 'container-address') return value;
  throw new SetupError(
    `${REACH_VARIABLE}=${value} is not a way to reach a container; use published (the gate on the engine's host) or container-address (the gate in a container)`,
  );
}

/** The container's address on its first network that has one (the default bridge's, as a rule), or undefined. */
export function containerAddress(info: Docker.ContainerInspectInfo): string | undefined {
  return Object.values(info.NetworkSettings.Networks ?? {}).find((network) => network.IPAddress)?.IPAddress;
}
