/**
 * The drain contract: what a server does when told to stop (SIGTERM/SIGINT),
 * in this order. drain.test.ts proves each line against a real process.
 *
 *  1. Readiness is withdrawn at once: /healthz answers 503, the ready marker
 *     is removed and systemd is told STOPPING=1 (main.ts, before drain()).
 *  2. The listening socket is closed at once, and only the listener: the
 *     kernel routes new connections to the other SO_REUSEPORT listeners, and
 *     open connections stay up. (Node >= 19's http.Server.close() would also
 *     close idle keep-alive connections at once, racing clients that are just
 *     sending their next request on them; so it is not called.)
 *  3. Every response from then on carries `Connection: close`, and its socket
 *     closes once the response is flushed: the client learns from the
 *     response itself to open its next connection elsewhere.
 *  4. A connection that stays idle for `idleGraceMs` after draining began (or
 *     after it was accepted, if later) is closed.
 *  5. In-flight requests complete; the drain resolves 0 when no connection
 *     remains.
 *  6. At `deadlineMs` whatever remains is destroyed, the number cut is logged,
 *     and the drain resolves 1.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';

export interface DrainOptions {
  /** Line 4: how long an idle connection may stay after draining began. */
  idleGraceMs: number;
  /** Line 6: when the rest is destroyed. */
  deadlineMs: number;
  /** Lifecycle events, e.g. logEvent. */
  log: (event: string, fields?: Record<string, unknown>) => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface ConnectionState {
  /** Responses started on this connection and not yet finished. */
  inFlight: Set<ServerResponse>;
  idleTimer?: NodeJS.Timeout;
}

/** Tracks the connections of one HTTP server and drains them by the contract above. */
export class Drainer {
  private readonly connections = new Map<Socket, ConnectionState>();
  private drainStarted = false;

  constructor(
    private readonly server: Server,
    private readonly options: DrainOptions,
  ) {
    server.on('connection', (socket: Socket) => this.track(socket));
  }

  /** True from the moment drain() is called. */
  get draining(): boolean {
    return this.drainStarted;
  }

  /** Open connections and requests in flight, for logs and /info. */
  counts(): { connections: number; inFlight: number } {
    let inFlight = 0;
    for (const state of this.connections.values()) inFlight += state.inFlight.size;
    return { connections: this.connections.size, inFlight };
  }

  /** Wraps the request handler so every request is tracked (line 3, 5). */
  handle(handler: Handler): Handler {
    return (req, res) => {
      const state = this.connections.get(req.socket);
      if (state) {
        clearTimeout(state.idleTimer);
        state.inFlight.add(res);
        res.once('close', () => {
          state.inFlight.delete(res);
          this.armIdleTimer(req.socket, state);
        });
      }
      if (this.drainStarted) closeAfterResponse(res);
      handler(req, res);
    };
  }

  /**
   * Starts the drain (lines 2 to 6). Resolves with the exit code: 0 when every
   * connection ended by itself, 1 when the deadline cut some.
   */
  drain(): Promise<number> {
    if (this.drainStarted) throw new Error('drain() was already called');
    this.drainStarted = true;
    this.options.log('drain_started', this.counts());

    return new Promise<number>((resolve) => {
      const deadline = setTimeout(() => {
        const cut = this.counts();
        for (const socket of this.connections.keys()) socket.destroy();
        this.options.log('drain_deadline', { cutConnections: cut.connections, cutRequests: cut.inFlight });
        resolve(1);
      }, this.options.deadlineMs);

      // Line 2. net.Server's close (http.Server extends it) stops accepting and
      // calls back once the last connection has ended (line 5).
      net.Server.prototype.close.call(this.server, () => {
        clearTimeout(deadline);
        this.options.log('drained');
        resolve(0);
      });
      this.options.log('listener_closed');

      for (const [socket, state] of this.connections) {
        for (const res of state.inFlight) closeAfterResponse(res); // line 3
        this.armIdleTimer(socket, state); // line 4
      }
    });
  }

  private track(socket: Socket): void {
    const state: ConnectionState = { inFlight: new Set() };
    this.connections.set(socket, state);
    socket.once('close', () => {
      clearTimeout(state.idleTimer);
      this.connections.delete(socket);
    });
    this.armIdleTimer(socket, state);
  }

  private armIdleTimer(socket: Socket, state: ConnectionState): void {
    if (!this.drainStarted || state.inFlight.size > 0 || socket.destroyed) return;
    clearTimeout(state.idleTimer);
    state.idleTimer = setTimeout(() => {
      if (state.inFlight.size === 0) socket.end();
    }, this.options.idleGraceMs);
  }
}

/** Line 3: ask Node to send `Connection: close` and close the socket once this response is flushed. */
function closeAfterResponse(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
