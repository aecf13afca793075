// The strategies that are a script in scripts/: restart.sh (SO_REUSEPORT,
// start the new server, wait until that very process is ready, then stop the
// old one) and naive-restart.sh (the control: stop, then start). Both take the
// same flags and keep the same state (server.pid, ready markers).
import { join } from 'node:path';
import type { RestartSettings, RestartStrategy, RestartTweak, TargetCommand } from './strategy.js';

/** The flags every restart script of this project takes: the run's settings, or a fault's instead. */
export function settingsFlags(settings: RestartSettings, tweak: RestartTweak = {}): string[] {
  return [
    '--ready-timeout',
    String(tweak.readyTimeoutSeconds ?? settings.readyTimeoutSeconds),
    '--stop-timeout',
    String(tweak.stopTimeoutSeconds ?? settings.stopTimeoutSeconds),
    '--overlap-ms',
    String(settings.overlapMs),
  ];
}

function scriptCommand(script: string, scriptsDir: string, settings: RestartSettings, tweak: RestartTweak = {}): TargetCommand {
  return {
    argv: [join(scriptsDir, script), ...settingsFlags(settings, tweak), ...(tweak.newCommand ? ['--', ...tweak.newCommand] : [])],
    env: tweak.newEnv ?? [],
  };
}

/** A strategy that is `script` in scripts/, with restart.sh's flags, events, exit codes and state (server.pid holds "PID START"). */
function scriptStrategy(spec: Pick<RestartStrategy, 'name' | 'summary' | 'needs' | 'refuses'> & { script: string }): RestartStrategy {
  const { script, ...described } = spec;
  return {
    ...described,
    operations: {
      logs: 'each server appends JSON lines to $STATE_DIR/server.log; in Docker the entrypoint streams that file to `docker logs`',
      reboot: "the container's restart policy: the entrypoint cold-starts a server and exits when the serving one dies",
      files: [`scripts/${script}`, 'scripts/lib/server-process.sh', 'scripts/entrypoint.sh'],
    },
    runtimes: ['docker', 'local'],
    image: 'runtime',
    killer: script,
    restartCommand: (scriptsDir, settings, tweak) => scriptCommand(script, scriptsDir, settings, tweak),
    coldStartCommand: (scriptsDir, settings) => scriptCommand(script, scriptsDir, settings),
    servingPidProbe: 'read -r pid start <"$STATE_DIR/server.pid" && echo "$pid"',
    serverLogProbe: 'cat "$STATE_DIR/server.log"',
  };
}

export const reuseport = scriptStrategy({
  name: 'reuseport',
  script: 'restart.sh',
  summary: 'scripts/restart.sh: the new server binds with SO_REUSEPORT, is ready, then the old one drains',
  needs: 'net.ipv4.tcp_migrate_req=1 in the network namespace (Linux 5.14+); setsid and flock (util-linux)',
  refuses: () => undefined,
});

export const naive = scriptStrategy({
  name: 'naive',
  script: 'naive-restart.sh',
  summary: 'scripts/naive-restart.sh: stop, then start; the control that must fail the gate',
  needs: 'nothing: that is the point of the control',
  refuses: () => 'the naive control fails the gate already; faults show what a zero-downtime restart does when things go wrong, so use --strategy reuseport',
});
