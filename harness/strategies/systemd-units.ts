// The systemd designs (seeds 000 and 001, and one they miss): systemd starts,
// signals and kills the servers; the scripts in scripts/systemd/ ask it to
// and report what it did with the shared restart events. They run under
// Docker only, in the image's systemd target (systemd as PID 1).
import { join } from 'node:path';
import { settingsFlags } from './restart-scripts.js';
import type { RestartSettings, RestartStrategy, RestartTweak, TargetCommand } from './strategy.js';

/** Where the scripts keep per-unit state in the image (scripts/systemd/units.sh, UNIT_STATE). */
const UNIT_STATE = '/var/lib/reuseport-lab';

/** Every server of every design logs to journald under a unit named reuseport-lab*. */
const JOURNAL = "journalctl --sync 2>/dev/null; journalctl -q -o cat --no-pager -u 'reuseport-lab*'";

function unitScriptCommand(script: string[], settings: RestartSettings, tweak: RestartTweak = {}): TargetCommand {
  return {
    argv: [
      ...script,
      ...settingsFlags(settings, tweak),
      // The units do not inherit the caller's environment: the script writes these into the new unit's.
      ...(tweak.newEnv ?? []).flatMap((pair) => ['--env', pair]),
      ...(tweak.newCommand ? ['--', ...tweak.newCommand] : []),
    ],
    env: [],
  };
}

/** The main PID of a unit, as the serving-PID probe. */
const mainPidOf = (unit: string) => `systemctl show -p MainPID --value "${unit}"`;

const STOPS_FIRST =
  'systemctl restart stops the old server before it starts the new one, so a new version that fails leaves nothing serving and nothing to roll back to';
const SOCKET_FROM_SYSTEMD =
  'systemd binds the socket and passes it to the server, so the server never binds anything that could fail';

const KILLER = 'systemd (TimeoutStopSec)';
const JOURNALD = "journald: `journalctl -u 'reuseport-lab*'` (the harness reads each server's exit line from it)";
/** Every systemd design's scripts share these. */
const SCRIPT_FILES = ['scripts/systemd/units.sh', 'scripts/systemd/exec-server.sh', 'scripts/lib/script.sh'];
const SYSTEMD_NEEDS =
  'systemd as PID 1: in Docker a writable cgroup mount, --cgroupns=host and tmpfs on /run and /run/lock (docs/security.md); unit files';

function blueGreen(spec: {
  name: string;
  template: string;
  summary: string;
  needs: string;
  units: string[];
  refuses: RestartStrategy['refuses'];
}): RestartStrategy {
  const script = (scriptsDir: string) => [join(scriptsDir, 'systemd', 'bluegreen-switch.sh'), spec.template];
  return {
    name: spec.name,
    summary: spec.summary,
    needs: spec.needs,
    runtimes: ['docker'],
    image: 'systemd',
    killer: KILLER,
    restartCommand: (scriptsDir, settings, tweak) => unitScriptCommand(script(scriptsDir), settings, tweak),
    coldStartCommand: (scriptsDir, settings) => unitScriptCommand(script(scriptsDir), settings),
    servingPidProbe: mainPidOf(`${spec.template}@$(cat ${UNIT_STATE}/${spec.template}.live).service`),
    serverLogProbe: JOURNAL,
    operations: {
      logs: JOURNALD,
      reboot:
        'the switch enables the live colour and disables the old one (systemctl enable): a boot starts the live colour',
      files: [...spec.units, 'scripts/systemd/bluegreen-switch.sh', ...SCRIPT_FILES],
    },
    refuses: spec.refuses,
  };
}

export const systemdBlueGreen = blueGreen({
  name: 'systemd-bluegreen',
  template: 'reuseport-lab',
  summary:
    'systemd units reuseport-lab@blue/@green, each binding with SO_REUSEPORT: start the other colour, wait until active, stop the old one',
  needs: `${SYSTEMD_NEEDS}; net.ipv4.tcp_migrate_req=1 (Linux 5.14+)`,
  units: ['systemd/reuseport-lab@.service'],
  refuses: () => undefined,
});

export const systemdSocketBlueGreen = blueGreen({
  name: 'systemd-socket-bluegreen',
  template: 'reuseport-lab-shared',
  summary:
    'one systemd socket passed to both reuseport-lab-shared@blue/@green (Sockets=): start the other colour, wait until active, stop the old one',
  needs: `${SYSTEMD_NEEDS}; no SO_REUSEPORT, no kernel setting`,
  units: ['systemd/reuseport-lab-shared.socket', 'systemd/reuseport-lab-shared@.service'],
  refuses: (fault) => (fault === 'cannot-bind' ? SOCKET_FROM_SYSTEMD : undefined),
});

export const systemdSocket: RestartStrategy = {
  name: 'systemd-socket',
  summary:
    'socket activation: systemd holds the socket; systemctl restart stops the old server, then starts the new one',
  needs: `${SYSTEMD_NEEDS}; no SO_REUSEPORT, no kernel setting`,
  runtimes: ['docker'],
  image: 'systemd',
  killer: KILLER,
  restartCommand: (scriptsDir, settings, tweak) =>
    unitScriptCommand([join(scriptsDir, 'systemd', 'socket-restart.sh')], settings, tweak),
  coldStartCommand: (scriptsDir, settings) =>
    unitScriptCommand([join(scriptsDir, 'systemd', 'socket-restart.sh')], settings),
  servingPidProbe: mainPidOf('reuseport-lab.service'),
  serverLogProbe: JOURNAL,
  operations: {
    logs: JOURNALD,
    reboot:
      '`systemctl enable reuseport-lab.socket` once (the restart script does not): a boot opens the socket and the first connection starts the server',
    files: [
      'systemd/reuseport-lab.socket',
      'systemd/reuseport-lab.service',
      'scripts/systemd/socket-restart.sh',
      ...SCRIPT_FILES,
    ],
  },
  refuses: (fault) => {
    if (fault === 'cannot-bind') return SOCKET_FROM_SYSTEMD;
    if (['crash-at-start', 'never-ready', 'hung-restart'].includes(fault)) return STOPS_FIRST;
    return undefined;
  },
};
