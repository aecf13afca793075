// What every strategy promises the runtimes, and how the script strategies
// turn a fault's intent into their own flags.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/processes.js';
import { FAULT_NAMES, FAULTS } from '../faults.js';
import { STRATEGIES, STRATEGY_NAMES } from './index.js';
import { handoff, naive, reuseport } from './restart-scripts.js';
import { systemdBlueGreen, systemdSocket, systemdSocketBlueGreen } from './systemd-units.js';

const settings = { readyTimeoutSeconds: 10, stopTimeoutSeconds: 30, overlapMs: 500 };

describe('every strategy', () => {
  it.each(STRATEGY_NAMES)(
    '%s: is registered under its own name, says what it needs, and answers for every fault',
    (name) => {
      const strategy = STRATEGIES[name];
      expect(strategy.name).toBe(name);
      expect(strategy.runtimes.length).toBeGreaterThan(0);
      expect(strategy.summary).not.toMatch(/\n/);
      // The files it names are the repository's (npm run compare counts their lines).
      for (const file of strategy.operations.files) expect(existsSync(join(ROOT, file)), file).toBe(true);
      for (const fault of FAULT_NAMES) {
        const refusal = strategy.refuses(fault);
        if (refusal !== undefined) expect(refusal).toMatch(/^[^\n]{10,}$/);
      }
    },
  );
});

describe('the script strategies', () => {
  it("run their script with the run's settings as flags", () => {
    expect(reuseport.restartCommand('/app/scripts', settings)).toEqual({
      argv: ['/app/scripts/restart.sh', '--ready-timeout', '10', '--stop-timeout', '30', '--overlap-ms', '500'],
      env: [],
    });
    expect(naive.restartCommand('/app/scripts', settings).argv[0]).toBe('/app/scripts/naive-restart.sh');
    // restart.sh reads --handoff as its first flag only.
    expect(handoff.restartCommand('/app/scripts', settings).argv.slice(0, 2)).toEqual([
      '/app/scripts/restart.sh',
      '--handoff',
    ]);
    expect(handoff.coldStartCommand('/app/scripts', settings).argv.slice(0, 2)).toEqual([
      '/app/scripts/restart.sh',
      '--handoff',
    ]);
  });

  it("turn a fault's intent into flags, a command after --, and environment", () => {
    expect(reuseport.restartCommand('/s', settings, FAULTS['never-ready'].tweak)).toEqual({
      argv: [
        '/s/restart.sh',
        '--ready-timeout',
        '2',
        '--stop-timeout',
        '30',
        '--overlap-ms',
        '500',
        '--',
        'sleep',
        '600',
      ],
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

describe('the systemd strategies', () => {
  it('run their switch script with the template, the settings, and the fault as --env and a command after --', () => {
    expect(systemdBlueGreen.restartCommand('/app/scripts', settings, FAULTS['cannot-bind'].tweak)).toEqual({
      argv: [
        '/app/scripts/systemd/bluegreen-switch.sh',
        'reuseport-lab',
        '--ready-timeout',
        '10',
        '--stop-timeout',
        '30',
        '--overlap-ms',
        '500',
        '--env',
        'HOST=192.0.2.1',
      ],
      env: [],
    });
    expect(
      systemdSocketBlueGreen.restartCommand('/s', settings, FAULTS['crash-at-start'].tweak).argv.slice(0, 2),
    ).toEqual(['/s/systemd/bluegreen-switch.sh', 'reuseport-lab-shared']);
    expect(systemdSocketBlueGreen.restartCommand('/s', settings, FAULTS['crash-at-start'].tweak).argv).toContain('--');
    expect(systemdSocket.coldStartCommand('/s', settings).argv[0]).toBe('/s/systemd/socket-restart.sh');
  });

  it('run under Docker only, in the systemd image, and name systemd as the killer', () => {
    for (const strategy of [systemdBlueGreen, systemdSocket, systemdSocketBlueGreen]) {
      expect(strategy.runtimes).toEqual(['docker']);
      expect(strategy.image).toBe('systemd');
      expect(strategy.killer).toMatch(/^systemd/);
    }
  });

  it('refuse the faults that cannot happen in their design, saying why', () => {
    expect(systemdSocket.refuses('crash-at-start')).toMatch(/stops the old server before/);
    expect(systemdSocket.refuses('cannot-bind')).toMatch(/systemd binds the socket/);
    expect(systemdSocketBlueGreen.refuses('cannot-bind')).toMatch(/systemd binds the socket/);
    expect(systemdSocketBlueGreen.refuses('crash-at-start')).toBeUndefined();
    expect(systemdBlueGreen.refuses('cannot-bind')).toBeUndefined();
    expect(systemdSocket.refuses('stop-timeout')).toBeUndefined();
  });
});
