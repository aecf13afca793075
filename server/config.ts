// Server configuration, read once from the environment. Every bad value is a
// ConfigError whose message is the one line the operator needs.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** Everything the server reads from its environment. */
export interface ServerConfig {
  host: string;
  port: number;
  backlog: number;
  /** Connections accepted at once each time Node accepts one (accept.ts); 0 leaves Node's one per loop turn. */
  acceptBatch: number;
  /** Shown in X-Server-Version so a deploy of "v2" is visible per response. */
  version: string;
  /** Holds ready/<pid>-<start> markers that the restart script waits for. */
  stateDir: string;
  /**
   * How long an idle keep-alive connection is kept, announced in every
   * response (`Keep-Alive: timeout=N`, whole seconds): Node's keepAliveTimeout.
   */
  keepAliveTimeoutMs: number;
  /** A keep-alive connection idle this long after draining began is closed (default: the keep-alive timeout). */
  idleGraceMs: number;
  /** Drain deadline: what is left then is destroyed. Keep it below the orchestrator's kill timeout. */
  drainTimeoutMs: number;
  /** Drain line 1: keep listening this long after SIGTERM, for a load balancer to stop routing here (a preStop sleep). */
  listenGraceMs: number;
  /** Upper bound for /slow?ms=N. */
  slowMaxMs: number;
  /** Drain line 2: steer new connections to another listener before closing (steer.ts). */
  steer: boolean;
  /** How long a steered listener stays open for what was already routed to it. */
  steerSettleMs: number;
  /** Fault injection for the gate's own tests: block the event loop this long right after ready (0: never). */
  stallAfterReadyMs: number;
  /** Fault injection for the gate's own tests: false exits at SIGTERM without draining, as a server with no handler does. */
  drainOnSigterm: boolean;
  /** systemd's notify socket, when started by systemd with Type=notify. */
  notifySocket?: string;
  /** Socket activation: LISTEN_FDS, checked against LISTEN_PID. */
  listenFds?: number;
  /** Handoff (handoff.ts): take the listener offered at this path instead of binding. */
  handoffFrom?: string;
  /** Offer this server's listener to a newer one (handoff.ts, line 1). */
  offer: boolean;
  /** Serve HTTPS with this certificate and key (PEM), read at start; absent: plain HTTP. */
  tls?: { cert: Buffer; key: Buffer };
  /** Serve HTTP/2 beside HTTP/1.1 (http2.ts): h2 through ALPN over TLS, h2c with prior knowledge in clear text. */
  http2: boolean;
  /** Drain line 10: two GOAWAYs with a PING between them, or the final one alone (the control). */
  goaway: 'two-phase' | 'one-shot';
}

/** The state directory when STATE_DIR is not set: the caller's own, as scripts/lib/server-process.sh picks it. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.XDG_RUNTIME_DIR) return `${env.XDG_RUNTIME_DIR}/reuseport-lab`;
  return uid === 0 ? '/run/reuseport-lab' : `/tmp/reuseport-lab-${uid}`;
}

export const DEFAULTS = {
  host: '0.0.0.0',
  port: 8080,
  backlog: 511,
  acceptBatch: 64,
  version: 'v1',
  keepAliveTimeoutMs: 2_000,
  drainTimeoutMs: 20_000,
  listenGraceMs: 0,
  slowMaxMs: 60_000,
  steer: true,
  steerSettleMs: 50,
  http2: true,
  goaway: 'two-phase',
} as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: use a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'off') return raw === 'on';
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: use on or off`);
}

function goawayMode(env: NodeJS.ProcessEnv): ServerConfig['goaway'] {
  const raw = env.DRAIN_GOAWAY;
  if (raw === undefined || raw === '') return DEFAULTS.goaway;
  if (raw === 'two-phase' || raw === 'one-shot') return raw;
  throw new ConfigError(
    `DRAIN_GOAWAY=${JSON.stringify(raw)} is not valid: use two-phase (a notice, a PING, then the final GOAWAY) or one-shot (the final GOAWAY alone)`,
  );
}

/** TLS_CERT and TLS_KEY, both or neither: the PEM files an HTTPS server starts with. */
function tlsFiles(env: NodeJS.ProcessEnv): { cert: Buffer; key: Buffer } | undefined {
  const certFile = env.TLS_CERT || undefined;
  const keyFile = env.TLS_KEY || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile)
    throw new ConfigError(`TLS_CERT and TLS_KEY go together: set both (PEM files) to serve HTTPS, or neither`);
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(
        `${name}=${JSON.stringify(file)} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give a PEM file this user can read`,
      );
    }
  };
  return { cert: read('TLS_CERT', certFile), key: read('TLS_KEY', keyFile) };
}

/**
 * Reads LISTEN_FDS/LISTEN_PID the way sd_listen_fds(3) defines them: the fds
 * (from 3 on) belong to this process only if LISTEN_PID is its PID.
 */
function socketActivation(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const fds = env.LISTEN_FDS;
  const owner = env.LISTEN_PID;
  if (fds === undefined && owner === undefined) return undefined;
  if (fds === undefined || !/^[1-9]\d*$/.test(fds)) {
    throw new ConfigError(
      `LISTEN_FDS=${JSON.stringify(fds ?? '')} is not valid: systemd sets it to the number of passed sockets (1 or more); unset it to bind with SO_REUSEPORT`,
    );
  }
  if (owner !== undefined && owner !== String(pid)) {
    throw new ConfigError(
      `LISTEN_PID=${owner} names another process (this is PID ${pid}): the sockets were not passed to this process; unset LISTEN_FDS and LISTEN_PID`,
    );
  }
  return Number(fds);
}

/** Parses the server's environment; throws ConfigError with a one-line message. */
export function readConfig(env: NodeJS.ProcessEnv = process.env, pid = process.pid): ServerConfig {
  const host = env.HOST || DEFAULTS.host;
  if (isIP(host) === 0) {
    throw new ConfigError(
      `HOST=${JSON.stringify(host)} is not valid: use a numeric IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::`,
    );
  }
  const version = env.APP_VERSION || DEFAULTS.version;
  if (!/^[\w.+-]{1,64}$/.test(version)) {
    throw new ConfigError(
      `APP_VERSION=${JSON.stringify(version)} is not valid: use up to 64 letters, digits, '.', '_', '+' or '-'`,
    );
  }
  const stateDir = env.STATE_DIR || defaultStateDir(env);
  if (!stateDir.startsWith('/')) {
    throw new ConfigError(`STATE_DIR=${JSON.stringify(stateDir)} is not valid: use an absolute path`);
  }
  const keepAliveTimeoutMs = integer(env, 'KEEP_ALIVE_TIMEOUT_MS', DEFAULTS.keepAliveTimeoutMs, 1_000, 600_000);
  const config: ServerConfig = {
    host,
    port: integer(env, 'PORT', DEFAULTS.port, 0, 65535),
    backlog: integer(env, 'LISTEN_BACKLOG', DEFAULTS.backlog, 1, 65535),
    acceptBatch: integer(env, 'ACCEPT_BATCH', DEFAULTS.acceptBatch, 0, 65535),
    version,
    stateDir,
    keepAliveTimeoutMs,
    // A client that honours the keep-alive timeout closes an idle connection before it runs out: a drain that waits as long never closes one under a request on its way.
    idleGraceMs: integer(env, 'DRAIN_IDLE_GRACE_MS', keepAliveTimeoutMs, 0, 600_000),
    drainTimeoutMs: integer(env, 'DRAIN_TIMEOUT_MS', DEFAULTS.drainTimeoutMs, 1, 3_600_000),
    listenGraceMs: integer(env, 'DRAIN_LISTEN_GRACE_MS', DEFAULTS.listenGraceMs, 0, 600_000),
    slowMaxMs: integer(env, 'SLOW_MAX_MS', DEFAULTS.slowMaxMs, 0, 3_600_000),
    steer: onOff(env, 'DRAIN_STEER', DEFAULTS.steer),
    steerSettleMs: integer(env, 'DRAIN_STEER_SETTLE_MS', DEFAULTS.steerSettleMs, 0, 60_000),
    stallAfterReadyMs: integer(env, 'STALL_AFTER_READY_MS', 0, 0, 60_000),
    drainOnSigterm: onOff(env, 'DRAIN_ON_SIGTERM', true),
    notifySocket: env.NOTIFY_SOCKET || undefined,
    listenFds: socketActivation(env, pid),
    handoffFrom: env.HANDOFF_FROM || undefined,
    offer: onOff(env, 'HANDOFF_OFFER', true),
    tls: tlsFiles(env),
    http2: onOff(env, 'HTTP2', DEFAULTS.http2),
    goaway: goawayMode(env),
  };
  if (config.handoffFrom !== undefined && !config.handoffFrom.startsWith('/')) {
    throw new ConfigError(
      `HANDOFF_FROM=${JSON.stringify(config.handoffFrom)} is not valid: use the absolute path of the old server's offer (restart.sh --handoff sets it)`,
    );
  }
  if (config.idleGraceMs >= config.drainTimeoutMs) {
    const given = env.DRAIN_IDLE_GRACE_MS ? '' : ', by default the keep-alive timeout';
    throw new ConfigError(
      `DRAIN_IDLE_GRACE_MS (${config.idleGraceMs}${given}) must be below DRAIN_TIMEOUT_MS (${config.drainTimeoutMs})`,
    );
  }
  // The grace is part of the drain, as a preStop sleep is part of Kubernetes' grace period: the deadline counts it.
  if (config.listenGraceMs > 0 && config.listenGraceMs >= config.drainTimeoutMs) {
    throw new ConfigError(
      `DRAIN_LISTEN_GRACE_MS (${config.listenGraceMs}) must be below DRAIN_TIMEOUT_MS (${config.drainTimeoutMs}): the drain deadline counts from SIGTERM`,
    );
  }
  return config;
}
