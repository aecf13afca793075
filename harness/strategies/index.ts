// Every restart strategy, by name. A new strategy: one file in this folder,
// its test, and a line here.
import { handoff, naive, reuseport } from './restart-scripts.js';
import type { RestartStrategy } from './strategy.js';
import { systemdBlueGreen, systemdSocket, systemdSocketBlueGreen } from './systemd-units.js';

export const STRATEGIES = {
  reuseport,
  handoff,
  naive,
  'systemd-bluegreen': systemdBlueGreen,
  'systemd-socket': systemdSocket,
  'systemd-socket-bluegreen': systemdSocketBlueGreen,
} as const satisfies Record<string, RestartStrategy>;

export type StrategyName = keyof typeof STRATEGIES;

export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[];
