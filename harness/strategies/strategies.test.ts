// What every strategy promises the runtimes, and how the script strategies
// turn a fault's intent into their own flags.
import { describe, expect, it } from 'vitest';
import { FAULT_NAMES, FAULTS } from '../faults.js';
import { STRATEGIES, STRATEGY_NAMES } from './index.js';
import { naive, reuseport } from './restart-scripts.js';

const settings = { readyTimeoutSeconds: 10, stopTimeoutSeconds: 30, overlapMs: 500 };

describe('every strategy', () => {
  it.each(STRATEGY_NAMES)('%s: is registered under its own name, says what it needs, and answers for every fault', (name) => {
    const strategy = STRATEGIES[name];
    expect(strategy.name).toBe(name);
    expect(strategy.runtimes.length).toBeGreaterThan(0);
    expect(strategy.summary).not.toMatch(/\n/);
    for (const fault of FAULT_NAMES) {
      const refusal = strategy.refuses(fault);
      if (refusal !== undefined) expect(refusal).toMatch(/^[^\n]{10,}$/);
    }
  });
});

describe('the script strategies', () => {
  it('run their script with the run\'s settings as flags', () => {
    expect(reuseport.restartCommand('/app/scripts', settings)).toEqual({
      argv: ['/app/scripts/restart.sh', '--ready-timeout', '10', '--stop-timeout', '30', '--overlap-ms', '500'],
      env: [],
    });
    expect(naive.restartCommand('/app/scripts', settings).argv[0]).toBe('/app/scripts/naive-restart.sh');
  });

  it("turn a fault's intent into flags, a command after --, and environment", () => {
    expect(reuseport.restartCommand('/s', settings, FAULTS['never-ready'].tweak)).toEqual({
      argv: ['/s/restart.sh', '--ready-timeout', '2', '--stop-timeout', '30', '--overlap-ms', '500', '--', 'sleep', '600'],
      env: [],
    });
    expect(reuseport.restartCommand('/s', settings, FAULTS['stop-timeout'].tweak).argv).toContain('1');
    expect(reuseport.restartCommand('/s', settings, FAULTS['wrong-version'].tweak).env).toEqual(['APP_VERSION=v1']);
  });

  it('leave faults to reuseport: the naive control refuses them, saying why', () => {
    expect(reuseport.refuses('crash-at-start')).toBeUndefined();
    expect(naive.refuses('crash-at-start')).toMatch(/fails the gate already/);
  });
});
