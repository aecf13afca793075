// What `npm run compare` can run: this project's restart strategies (one
// machine, strategies/), and the fleet designs, where Docker Swarm replaces
// the replicas of a service behind HAProxy (scripts/swarm/fleet.sh) and the
// gate judges the update (gate --swarm-service).
import { STRATEGIES, STRATEGY_NAMES, type StrategyName } from '../strategies/index.js';
import type { Operations } from '../strategies/strategy.js';

interface FleetDesign {
  summary: string;
  needs: string;
  killer: string;
  /** docker service update --update-order */
  order: 'start-first' | 'stop-first';
  operations: Operations;
}

const FLEET_OPERATIONS: Operations = {
  logs: "docker service logs (each task: the servers' JSON lines)",
  reboot: "the swarm reschedules the service's tasks",
  files: ['swarm/stack.yml', 'swarm/haproxy.cfg', 'swarm/Dockerfile.haproxy', 'scripts/swarm/fleet.sh'],
};

export const FLEET_DESIGNS = {
  'swarm-start-first': {
    summary:
      'Docker Swarm replaces each of 3 replicas behind HAProxy, the new task first (docker service update --update-order start-first); a stopping server keeps listening for DRAIN_LISTEN_GRACE_MS',
    needs: 'swarm mode and a load balancer on the overlay network',
    killer: 'the swarm (after stop_grace_period)',
    order: 'start-first',
    operations: FLEET_OPERATIONS,
  },
  'swarm-stop-first': {
    summary:
      'Docker Swarm replaces each of 3 replicas behind HAProxy, the old task first (--update-order stop-first): one replica fewer while each is replaced',
    needs: 'swarm mode and a load balancer on the overlay network',
    killer: 'the swarm (after stop_grace_period)',
    order: 'stop-first',
    operations: FLEET_OPERATIONS,
  },
} as const satisfies Record<string, FleetDesign>;

export type FleetDesignName = keyof typeof FLEET_DESIGNS;
export type DesignName = StrategyName | FleetDesignName;

/** Every design; the default run takes the one-machine strategies, fleets on request (they need swarm mode). */
export const DESIGN_NAMES: DesignName[] = [...STRATEGY_NAMES, ...(Object.keys(FLEET_DESIGNS) as FleetDesignName[])];

export const isFleet = (name: DesignName): name is FleetDesignName => name in FLEET_DESIGNS;

/** What the tables say of a design. */
export function describeDesign(name: DesignName): {
  summary: string;
  needs: string;
  killer: string;
  operations: Operations;
} {
  return isFleet(name) ? FLEET_DESIGNS[name] : STRATEGIES[name];
}
