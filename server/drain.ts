/**
 * The drain contract: what a server does when told to stop (SIGTERM/SIGINT),
 * in this order. drain.test.ts proves each line against a real process.
 *
 *  1. Readiness is withdrawn at once: /healthz answers 503, the ready marker
 *     is removed and systemd is told STOPPING=1 (main.ts, before drain()).
 *     With `listenGraceMs` (DRAIN_LISTEN_GRACE_MS) the server then keeps
 *     listening that long, answering every request as line 4 says: the
 *     time a load balancer or orchestrator that routes by health checks or
 *     DNS needs to stop sending new connections here (what Kubernetes'
 *     preStop sleep is for). Lines 4 to 9 apply from the drain's start.
 *  2. New connections are steered away before the listener closes: when
 *     another SO_REUSEPORT listener shares the port, a BPF program sends the
 *     port's new connections to it, proven by one probe request (steer.ts),
 *     and what was already routed here is accepted for `steerSettleMs`.
 *     Alone on the port, on systemd's socket, or where the kernel refuses,
 *     nothing is steered and the server says why (`steer_skipped`).
 *  3. Then the listening socket is closed, and only the listener: the
 *     kernel routes new connections to the other listeners, and open
 *     connections stay up. (Node >= 19's http.Server.close() would also
 *     close idle keep-alive connections at once, racing clients that are just
 *     sending their next request on them; so it is not called.)
 *  4. Every response from the drain's start on carries `Connection: close`,
 *     and its socket closes once the response is flushed: the client learns
 *     from the response itself to open its next connection elsewhere.
 *  5. A connection that stays idle for `idleGraceMs` after draining began (or
 *     after it was accepted, if later) is closed. By default that is the
 *     keep-alive timeout the server announces in every response
 *     (`Keep-Alive: timeout=N`, KEEP_ALIVE_TIMEOUT_MS): a client that honours
 *     it (undici, the harness's open model) has closed an idle connection
 *     by then, so the server's close never crosses a request the client is
 *     just sending on it. A shorter grace can: HTTP/1.1 has no way to tell an
 *     idle connection to stop (measured with the open model: 7 requests
 *     lost in 33 restarts with a 1 s grace against a 5 s announcement).
 *  6. In-flight requests complete; the drain resolves 0 when no connection
 *     remains.
 *  7. At `deadlineMs` whatever remains is destroyed, the number cut is logged,
 *     and the drain resolves 1.
 *  8. Streams (Server-Sent Events, events.ts) end at the drain's start, each
 *     after a whole event, and a stream opened while draining ends at once
 *     after its first events: a response that never finishes by itself
 *     would otherwise hold the drain until its deadline. The client comes
 *     back with Last-Event-ID, and the next server continues the sequence.
 *  9. WebSockets (websocket.ts) get the same: at the drain's start each sends
 *     what is due and closes with 1012 Service Restart, and one upgraded
 *     while draining is closed so at once. An upgraded connection is never
 *     idle (line 5): its close handshake ends it, or the deadline (line 7).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

export interface DrainOptions {
  /** Line 5: how long an idle connection may stay after draining began. */
  idleGraceMs: number;
  /** Line 7: when the rest is destroyed (counted from the drain's start, grace included). */
  deadlineMs: number;
  /** Line 1: how long the listener stays open after the drain started (0: close it at once). */
  listenGraceMs?: number;
  /**
   * Line 2: runs after the drain started and before the listener closes
   * (steer.ts); what it resolves with is logged with `listener_closed`.
   */
  beforeListenerClose?: () => Promise<Record<string, unknown>>;
  /** Lifecycle events, e.g. logEvent. */
  log: (event: string, fields?: Record<string, unknown>) => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A response is done once it is flushed, or its connection is gone. */
const finished = (res: ServerResponse | undefined) => res === undefined || res.writableFinished || res.destroyed;

/**
 * Tracks the connections of one HTTP server and drains them by the contract
 * above. Until the drain starts, a connection costs one Map entry and one
 * shared 'close' listener, and a request one Map update: the listeners and
 * timers the contract needs are added only once it applies (BENCHMARKS.md,
 * "Server cost", which also tells what a connection still costs).
 */
export class Drainer {
  /**
   * Every open connection, with its newest response. Node answers a
   * connection's requests in order, so a connection is busy exactly while its
   * newest response is unfinished: knowing that needs no listener per request.
   */
  private readonly connections = new Map<Socket, ServerResponse | undefined>();
  /** Draining only: each idle connection's grace timer. */
  private readonly idleTimers = new Map<Socket, NodeJS.Timeout>();
  private drainStarted = false;
  /** Connections accepted after the drain started, for `listener_closed`: with a steer, what was already routed here. */
  private acceptedWhileDraining = 0;
  /** Lines 8 and 9: the open streams and WebSockets, each with its graceful end. */
  private readonly streams = new Map<ServerResponse | Duplex, () => void>();
  /** Line 9: connections upgraded to WebSockets, never idle. */
  private readonly upgraded = new Set<Duplex>();
  /** Requests received, for the exit line. */
  served = 0;

  constructor(
    private readonly server: Server,
    private readonly options: DrainOptions,
  ) {
    const connections = this.connections;
    const idleTimers = this.idleTimers;
    // One listener function for every socket: `this` is the socket that closed.
    const forget = function (this: Socket) {
      connections.delete(this);
      clearTimeout(idleTimers.get(this));
      idleTimers.delete(this);
    };
    // Over TLS requests arrive on the TLS socket, which exists from the handshake's end on.
    server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', (socket: Socket) => {
      connections.set(socket, undefined);
      socket.on('close', forget);
      if (this.drainStarted) {
        this.acceptedWhileDraining++;
        this.armIdleTimer(socket);
      }
    });
  }

  /** True from the moment drain() is called. */
  get draining(): boolean {
    return this.drainStarted;
  }

  /** Open connections and requests in flight, for logs and /info. */
  counts(): { connections: number; inFlight: number } {
    let inFlight = 0;
    for (const latest of this.connections.values()) if (!finished(latest)) inFlight++;
    return { connections: this.connections.size, inFlight };
  }

  /** Line 8: `stream` is one that `end` ends gracefully; ended at the drain's start, or at once when it already began. */
  holdStream(stream: ServerResponse | Duplex, end: () => void): void {
    if (this.drainStarted) return void setImmediate(end);
    this.streams.set(stream, end);
    stream.once('close', () => this.streams.delete(stream));
  }

  /** Line 9: `socket` was upgraded to a WebSocket that `end` closes gracefully; closed at the drain's start, or at once when it already began. */
  holdSocket(socket: Duplex, end: () => void): void {
    this.served++;
    this.upgraded.add(socket);
    clearTimeout(this.idleTimers.get(socket as Socket));
    socket.once('close', () => this.upgraded.delete(socket));
    this.holdStream(socket, end);
  }

  /** Wraps the request handler so every request is tracked (lines 4, 6). */
  handle(handler: Handler): Handler {
    return (req, res) => {
      this.served++;
      const socket = req.socket;
      if (this.connections.has(socket)) this.connections.set(socket, res);
      if (this.drainStarted) {
        closeAfterResponse(res);
        this.busyUntilClosed(socket, res);
      }
      handler(req, res);
    };
  }

  /**
   * Starts the drain (lines 2 to 7). Resolves with the exit code: 0 when every
   * connection ended by itself, 1 when the deadline cut some.
   */
  drain(): Promise<number> {
    if (this.drainStarted) throw new Error('drain() was already called');
    this.drainStarted = true;
    const graceMs = this.options.listenGraceMs ?? 0;
    this.options.log('drain_started', { ...this.counts(), ...(graceMs > 0 ? { listenGraceMs: graceMs } : {}) });

    return new Promise<number>((resolve) => {
      let ended = false;
      const end = (code: number) => {
        if (ended) return;
        ended = true;
        clearTimeout(deadline);
        resolve(code);
      };
      const deadline = setTimeout(() => {
        const cut = this.counts();
        for (const socket of this.connections.keys()) socket.destroy();
        this.options.log('drain_deadline', { cutConnections: cut.connections, cutRequests: cut.inFlight });
        end(1);
      }, this.options.deadlineMs);

      for (const end of this.streams.values()) end(); // lines 8 and 9
      this.streams.clear();
      for (const [socket, latest] of this.connections) {
        if (finished(latest)) {
          this.armIdleTimer(socket); // line 5
        } else {
          closeAfterResponse(latest!); // line 4
          this.busyUntilClosed(socket, latest!);
        }
      }

      // Line 1's grace, then line 2: the steer only matters once the listener is about to close.
      const graced = graceMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, graceMs)) : Promise.resolve();
      const before = graced.then(() => (ended ? {} : (this.options.beforeListenerClose?.() ?? {})));
      // The listener closes whatever happened before: a failed steer only loses the steer.
      const fields = before.catch((error: unknown) => ({ beforeCloseError: (error as Error).message }));
      void fields.then((fields) => {
        if (ended) return;
        // Line 3. net.Server's close (http.Server extends it) stops accepting and
        // calls back once the last connection has ended (line 6).
        net.Server.prototype.close.call(this.server, () => {
          this.options.log('drained');
          end(0);
        });
        this.options.log('listener_closed', { ...fields, acceptedWhileDraining: this.acceptedWhileDraining });
      });
    });
  }

  /** While draining: the connection is not idle until this response closes; then its idle grace starts. */
  private busyUntilClosed(socket: Socket, res: ServerResponse): void {
    clearTimeout(this.idleTimers.get(socket));
    res.once('close', () => this.armIdleTimer(socket));
  }

  private armIdleTimer(socket: Socket): void {
    if (!this.drainStarted || !finished(this.connections.get(socket)) || socket.destroyed || this.upgraded.has(socket))
      return;
    clearTimeout(this.idleTimers.get(socket));
    this.idleTimers.set(
      socket,
      setTimeout(() => {
        if (finished(this.connections.get(socket))) socket.end();
      }, this.options.idleGraceMs),
    );
  }
}

/** Line 4: ask Node to send `Connection: close` and close the socket once this response is flushed. */
function closeAfterResponse(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
