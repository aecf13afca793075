// The server process: obtain a listener, serve, announce readiness for this
// PID, and drain by contract (drain.ts) on SIGTERM/SIGINT.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { acceptEagerly } from './accept.js';
import { createApp } from './app.js';
import { ConfigError, readConfig, type ServerConfig } from './config.js';
import { Drainer } from './drain.js';
import { type Listener, obtainListener } from './listener.js';
import { logEvent } from './log.js';
import { Offer, offerPath } from './handoff.js';
import { processStartTime, Readiness } from './readiness.js';
import { steerThenSettle } from './steer.js';
import { createUpgradeHandler } from './websocket.js';
import { ALPN_PROTOCOLS, serveHttp2Beside } from './http2.js';

/** Blocks the event loop: what a new version that is busy right after it said "ready" looks like to clients. */
function stallEventLoop(ms: number): void {
  logEvent('stall_injected', { ms });
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/**
 * Drain line 2: steer the port's new connections to another listener, then
 * let what was already routed here be accepted. Resolves with the fields of
 * `listener_closed`; never rejects.
 */
async function steerBeforeClose(
  listener: Listener,
  config: ServerConfig,
  offer: Offer | undefined,
): Promise<Record<string, unknown>> {
  const skip = (reason: string) => {
    logEvent('steer_skipped', { reason });
    return { steered: false };
  };
  if (listener.source === 'systemd')
    return skip("the socket is systemd's: closing this process's copy leaves it listening");
  if (offer?.handedTo)
    return skip(
      `the socket was handed to PID ${offer.handedTo}: closing this process's copy leaves it listening there`,
    );
  if (!config.steer) return skip('DRAIN_STEER=off');
  const { address, port } = listener.info;
  return steerThenSettle(
    { fd: listener.fd, address: address!, port: port!, pid: process.pid, tls: config.tls !== undefined },
    config.steerSettleMs,
  );
}

function fail(message: string): never {
  process.stderr.write(`reuseport-lab server: ${message}\n`);
  process.exit(2);
}

function main(): void {
  const startedAt = new Date().toISOString();
  const config = readConfig();
  const readiness = new Readiness(config.stateDir, config.notifySocket);
  readiness.prepare();
  const listener = obtainListener(config);

  const server = config.tls
    ? createTlsServer({
        cert: config.tls.cert,
        key: config.tls.key,
        ...(config.http2 ? { ALPNProtocols: ALPN_PROTOCOLS } : {}),
      })
    : createServer();
  // Announced in every response (Keep-Alive: timeout=N); drain line 5 waits as long by default.
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  /** Handoff line 1: set once this server listens, closed when it starts draining. */
  let offer: Offer | undefined;
  /** The request handler, once built; HTTP/2's dispatch (set up before the drain's own connection listener) calls it. */
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  if (config.http2)
    serveHttp2Beside(server, (req, res) => handler(req, res), {
      onHttp2Socket: (socket) => drainer.forgetConnection(socket),
      onSession: (session, pipe) => drainer.holdSession(session, pipe),
    });
  const drainer = new Drainer(server, {
    idleGraceMs: config.idleGraceMs,
    deadlineMs: config.drainTimeoutMs,
    listenGraceMs: config.listenGraceMs,
    goaway: config.goaway,
    log: logEvent,
    beforeListenerClose: () => steerBeforeClose(listener, config, offer),
  });
  const app = createApp({
    pid: process.pid,
    version: config.version,
    listenerSource: listener.source,
    startedAt,
    slowMaxMs: config.slowMaxMs,
    isDraining: () => drainer.draining,
    counts: () => drainer.counts(),
    holdStream: (res, end) => drainer.holdStream(res, end),
  });
  handler = drainer.handle(app);
  server.on('request', handler);
  server.on(
    'upgrade',
    createUpgradeHandler({ pid: process.pid, holdSocket: (socket, end) => drainer.holdSocket(socket, end) }),
  );
  // Malformed requests and oversized headers: answer 400/431 and close, as
  // Node does by default, without a log line per attacker byte.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (drainer.draining) {
      logEvent('signal_ignored', { signal, reason: 'already draining' });
      return;
    }
    logEvent('stop_requested', { signal });
    offer?.close();
    readiness.withdraw();
    void drainer.drain().then((code) => {
      logEvent('exit', { code, served: drainer.served });
      process.exit(code);
    });
  };
  // Without a handler, SIGTERM's default action ends the process at once: the fault a gate must catch.
  if (config.drainOnSigterm) process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  server.listen({ fd: listener.fd }, () => {
    // An accept that fails (out of fds) fails again at once: one line a second is enough.
    let loggedAt = 0;
    const acceptFailed = (error: Error) => {
      if (Date.now() - loggedAt < 1000) return;
      loggedAt = Date.now();
      logEvent('accept_failed', { error: error.message });
    };
    if (config.acceptBatch > 0) acceptEagerly(server, listener.fd, config.acceptBatch, acceptFailed);
    const { address, port, family } = listener.info;
    logEvent('listening', {
      source: listener.source,
      address,
      port,
      family,
      version: config.version,
      clearedSteering: listener.clearedSteering,
      ...(listener.handoffNote ? { handoffNote: listener.handoffNote } : {}),
    });
    if (config.offer && listener.source !== 'systemd' && !drainer.draining) {
      try {
        offer = new Offer(offerPath(config.stateDir, process.pid, processStartTime()), listener.fd, logEvent);
      } catch (error) {
        // Serving matters more than offering: a later --handoff restart binds the port instead.
        logEvent('offer_failed', { error: (error as Error).message });
      }
    }
    readiness.markReady({ version: config.version, port, startedAt });
    logEvent('ready');
    if (config.stallAfterReadyMs) stallEventLoop(config.stallAfterReadyMs);
  });
}

try {
  main();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
