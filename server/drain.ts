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
 * 10. HTTP/2 sessions (http2.ts) are told to go in two phases, at the
 *     drain's start (and at once for a session begun while draining): a
 *     GOAWAY notice whose last-stream-id is 2^31-1 ("open no new streams
 *     here"), then a PING, and once the PING is answered (or after
 *     PING_WAIT_MS) the final GOAWAY with the last stream the server took.
 *     The client sent every stream it opened before it read the notice
 *     ahead of its PING answer, so those are at or below the final id and
 *     are served; a stream above it was never processed and the client may
 *     send it again elsewhere (RFC 9113, 6.8). A single final GOAWAY, as
 *     Node's own close sends, races the streams the client is just opening
 *     (grpc/grpc-go#1387): DRAIN_GOAWAY=one-shot sends only that, the
 *     control. HTTP/2 has no Connection: close; line 4 is this line.
 * 11. Streams at or below the final id complete (line 6), and each session
 *     closes once its last stream is done; the drain resolves 0 when no
 *     session and no connection remains, and at the deadline (line 7) the
 *     sessions left are destroyed, their open streams counted as cut.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { constants as h2, type ServerHttp2Session } from 'node:http2';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { goawayFrame, type SessionPipe } from './http2.js';

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
  /** Line 10: two GOAWAYs with a PING between them, or the final one alone (the control). */
  goaway?: GoawayMode;
  /** Lifecycle events, e.g. logEvent. */
  log: (event: string, fields?: Record<string, unknown>) => void;
}

export type GoawayMode = 'two-phase' | 'one-shot';

/** Line 10: the notice's last-stream-id, the largest there is: "no stream is refused yet, open no more". */
export const NOTICE_LAST_STREAM_ID = 2 ** 31 - 1;

/** Line 10: how long the final GOAWAY waits for the PING's answer from a client that does not answer. */
export const PING_WAIT_MS = 1_000;

/**
 * Line 10: how long after the PING's answer the final GOAWAY goes. A client
 * built on nghttp2 (Node's, curl's) writes a PING's answer ahead of the
 * requests it had queued, so they arrive with it or just after it. A final
 * GOAWAY sent from within the answer's callback names the last stream
 * processed before the answer, and nghttp2 then refuses the ones that came
 * with it: 9 of 36 streams in flight, in one run of http2.test.ts's
 * concurrent-streams test under Node 24, against none in 5 runs each with a
 * timer of 0 or 10 ms.
 */
export const FINAL_AFTER_PING_MS = 10;

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
  /** Lines 10 and 11: the open HTTP/2 sessions (each a connection of its own, not in `connections`). */
  private readonly sessions = new Map<ServerHttp2Session, SessionPipe>();
  /** HTTP/2 streams whose response is not done. */
  private http2InFlight = 0;
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
    // First among the connection listeners: an HTTP/2 connection is handed on by the next one (http2.ts), which forgets it here.
    server.prependListener(server instanceof tls.Server ? 'secureConnection' : 'connection', (socket: Socket) => {
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

  /** Open connections (HTTP/2 sessions among them) and requests in flight, for logs and /info. */
  counts(): { connections: number; inFlight: number } {
    let inFlight = this.http2InFlight;
    for (const latest of this.connections.values()) if (!finished(latest)) inFlight++;
    return { connections: this.connections.size + this.sessions.size, inFlight };
  }

  /** `socket` speaks HTTP/2 from now on: its session is tracked instead (holdSession), never as an idle connection. */
  forgetConnection(socket: Socket): void {
    this.connections.delete(socket);
    clearTimeout(this.idleTimers.get(socket));
    this.idleTimers.delete(socket);
  }

  /** Lines 10 and 11: an HTTP/2 session; told to go at the drain's start, or at once when the drain already began. */
  holdSession(session: ServerHttp2Session, pipe: SessionPipe): void {
    this.sessions.set(session, pipe);
    session.once('close', () => this.sessions.delete(session));
    if (this.drainStarted) this.goAway(session);
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
      if (req.httpVersionMajor === 2) {
        // Lines 10 and 11 end an HTTP/2 session; its streams need no Connection: close, which HTTP/2 forbids.
        this.http2InFlight++;
        res.once('close', () => this.http2InFlight--);
        return handler(req, res);
      }
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
        for (const session of this.sessions.keys()) session.destroy();
        this.options.log('drain_deadline', { cutConnections: cut.connections, cutRequests: cut.inFlight });
        end(1);
      }, this.options.deadlineMs);

      for (const end of this.streams.values()) end(); // lines 8 and 9
      this.streams.clear();
      if (this.sessions.size) this.options.log('goaway', { sessions: this.sessions.size, mode: this.goawayMode });
      for (const session of this.sessions.keys()) this.goAway(session); // line 10
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

  private get goawayMode(): GoawayMode {
    return this.options.goaway ?? 'two-phase';
  }

  /**
   * Line 10 for one session: the notice, a PING, the final GOAWAY; then the
   * session closes after its last stream (line 11). Node's session.goaway()
   * is nghttp2's submit_goaway, after which nghttp2 itself takes no new
   * stream, whatever the last-stream-id: sent so, the notice would refuse the
   * very streams it is meant to let through. nghttp2's shutdown notice, which
   * does not, is not in Node's API; so the notice is written as a frame of
   * our own between two of the session's writes (http2.ts, SessionPipe), and
   * nghttp2 goes on taking streams until the final GOAWAY.
   */
  private goAway(session: ServerHttp2Session): void {
    if (session.closed || session.destroyed) return;
    if (this.goawayMode === 'one-shot') return finalGoaway(session);
    let done = false;
    const final = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      finalGoaway(session);
    };
    // A client that answers neither its SETTINGS nor the PING gets the final GOAWAY all the same.
    const timer = setTimeout(final, PING_WAIT_MS);
    const notice = () => {
      if (done || session.destroyed) return;
      this.sessions.get(session)?.insert(goawayFrame(NOTICE_LAST_STREAM_ID));
      try {
        if (!session.ping(() => setTimeout(final, FINAL_AFTER_PING_MS))) final();
      } catch {
        final(); // too many PINGs unanswered, or the session is going already
      }
    };
    // A server's first frame is its SETTINGS: a session begun while draining waits until they were sent and answered.
    if (session.pendingSettingsAck) session.once('localSettings', notice);
    else notice();
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

/** Line 10's final GOAWAY, then the session closes once its last stream is done (line 11). */
function finalGoaway(session: ServerHttp2Session): void {
  if (session.destroyed) return;
  // No last-stream-id given: Node passes nghttp2 the last stream it processed.
  session.goaway(h2.NGHTTP2_NO_ERROR);
  session.close();
}

/** Line 4: ask Node to send `Connection: close` and close the socket once this response is flushed. */
function closeAfterResponse(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
