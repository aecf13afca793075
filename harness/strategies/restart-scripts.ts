// The strategies that are a script in scripts/: restart.sh (SO_REUSEPORT,
// start the new server, wait until that very process is ready, then stop the
// old one), restart.sh --handoff (the same, with the old server's listening
// socket passed to the new one) and naive-restart.sh (the control: stop, then
// start). All take the same flags and keep the same state (server.pid, ready
// markers).
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

function scriptCommand(
  script: string,
  flags: readonly string[],
  scriptsDir: string,
  settings: RestartSettings,
  tweak: RestartTweak = {},
): TargetCommand {
  return {
    argv: [
      join(scriptsDir, script),
      ...flags,
      ...settingsFlags(settings, tweak),
      ...(tweak.newCommand ? ['--', ...tweak.newCommand] : []),
    ],
    env: tweak.newEnv ?? [],
  };
}

/** A strategy that is `script` in scripts/, with restart.sh's flags, events, exit codes and state (server.pid holds "PID START"). */
function scriptStrategy(
  spec: Pick<RestartStrategy, 'name' | 'summary' | 'needs' | 'refuses'> & { script: string; flags?: string[] },
): RestartStrategy {
  const { script, flags = [], ...described } = spec;
  return {
    ...described,
    operations: {
      logs: 'each server appends JSON lines to $STATE_DIR/server.log; in Docker the entrypoint streams that file to `docker logs`',
      reboot: "the container's restart policy: the entrypoint cold-starts a server and exits when the serving one dies",
      files: [`scripts/${script}`, 'scripts/lib/script.sh', 'scripts/lib/server-process.sh', 'scripts/entrypoint.sh'],
    },
    runtimes: ['docker', 'local'],
    image: 'runtime',
    killer: script,
    restartCommand: (scriptsDir, settings, tweak) => scriptCommand(script, flags, scriptsDir, settings, tweak),
    coldStartCommand: (scriptsDir, settings) => scriptCommand(script, flags, scriptsDir, settings),
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

export const handoff = scriptStrategy({
  name: 'handoff',
  script: 'restart.sh',
  flags: ['--handoff'],
  summary:
    'scripts/restart.sh --handoff: the old server passes its listening socket to the new one (SCM_RIGHTS); it is never closed',
  needs:
    'a unix socket in $STATE_DIR between the two servers (server/handoff.ts); no SO_REUSEPORT group or kernel setting',
  refuses: (fault) =>
    fault === 'cannot-bind'
      ? "a new server that takes the old one's socket binds nothing, so it cannot fail to bind"
      : undefined,
});

export const naive = scriptStrategy({
  name: 'naive',
  script: 'naive-restart.sh',
  summary: 'scripts/naive-restart.sh: stop, then start; the control that must fail the gate',
  needs: 'nothing: that is the point of the control',
  refuses: () =>
    'the naive control fails the gate already; faults show what a zero-downtime restart does when things go wrong, so use --strategy reuseport',
});
