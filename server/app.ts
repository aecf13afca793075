// Where a request is answered. Every answer names the PID that served it, so
// the harness can tell old from new server across a restart.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { readEvery, streamEvents } from './events.js';
import { HEALTH_PATH, serveHealth } from './grpc-health.js';

export interface AppContext {
  pid: number;
  version: string;
  /** How the listener was obtained: 'reuseport' or 'systemd'. */
  listenerSource: string;
  startedAt: string;
  slowMaxMs: number;
  isDraining: () => boolean;
  counts: () => { connections: number; inFlight: number };
  /** Hands a stream to the drain, which ends it gracefully (drain.ts, line 8). */
  holdStream: (res: ServerResponse, end: () => void) => void;
}

/** The most POST /submit reads; a larger body is 413. */
export const SUBMIT_MAX_BYTES = 1024 * 1024;

/** The body of GET / (and of POST /submit); the harness validates responses against it. */
export function pidBody(pid: number): string {
  return `OK. Handled by PID: ${pid}\n`;
}

/** Creates the request handler for GET /, /healthz, /slow?ms=N, /events, /info, POST /submit and gRPC's grpc.health.v1.Health over HTTP/2 (and /ws's answer to a GET that is no upgrade). */
export function createApp(context: AppContext): (req: IncomingMessage, res: ServerResponse) => void {
  // Built once: the hot path only writes prepared bytes. Its headers are one
  // object reused for every response too: a fresh object per response (a
  // spread) cost about 4 µs of CPU per request here, a quarter of a plain
  // server's whole cost.
  const body = Buffer.from(pidBody(context.pid));
  const identity = {
    'X-Server-Pid': String(context.pid),
    // In a fleet every replica's server may have the same PID: the host name (a container's ID) tells them apart.
    'X-Server-Host': hostname(),
    'X-Server-Version': context.version,
  };
  const rootHeaders = { ...identity, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length };

  function send(
    res: ServerResponse,
    status: number,
    payload: string | Buffer,
    type = 'text/plain; charset=utf-8',
  ): void {
    res.writeHead(status, { ...identity, 'Content-Type': type, 'Content-Length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  /**
   * POST /submit: what a form or an API write looks like to a restart. The
   * answer comes only once the whole body is read, so a request cut while
   * its body is still arriving is never answered as if it were taken.
   */
  function submit(req: IncomingMessage, res: ServerResponse): void {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      // Answered at once; the rest of the body is read and dropped, and the connection closed after it.
      if (bytes > SUBMIT_MAX_BYTES && !res.headersSent) {
        // HTTP/2 forbids the header: the stream ends with the answer, and the session goes on.
        if (req.httpVersionMajor < 2) res.setHeader('Connection', 'close');
        send(res, 413, `the body is over ${SUBMIT_MAX_BYTES} bytes\n`);
      }
    });
    req.on('end', () => {
      if (res.headersSent) return;
      res.writeHead(200, rootHeaders);
      res.end(body);
    });
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);

    if (path.startsWith(HEALTH_PATH)) {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return send(res, 405, 'method not allowed: gRPC calls are POSTs over HTTP/2\n');
      }
      return serveHealth(req, res, path.slice(HEALTH_PATH.length), {
        identity,
        isDraining: context.isDraining,
        holdStream: context.holdStream,
      });
    }
    if (path === '/submit') {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return send(res, 405, 'method not allowed: POST a body to /submit\n');
      }
      return submit(req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed\n');
    }
    switch (path) {
      case '/':
        res.writeHead(200, rootHeaders);
        res.end(body);
        return;
      case '/healthz':
        return context.isDraining() ? send(res, 503, 'draining\n') : send(res, 200, 'ok\n');
      case '/slow': {
        const raw = new URLSearchParams(query === -1 ? '' : url.slice(query + 1)).get('ms');
        const ms = raw !== null && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
        if (!(ms <= context.slowMaxMs)) {
          return send(res, 400, `ms must be a whole number of milliseconds from 0 to ${context.slowMaxMs}\n`);
        }
        const timer = setTimeout(() => send(res, 200, body), ms);
        res.once('close', () => clearTimeout(timer));
        return;
      }
      case '/events': {
        const everyMs = readEvery(query === -1 ? '' : url.slice(query + 1));
        if (typeof everyMs === 'string') return send(res, 400, `${everyMs}\n`);
        const stream = streamEvents(req, res, { pid: context.pid, everyMs, headers: identity });
        context.holdStream(res, () => stream.end());
        return;
      }
      case '/ws':
        // Upgrades go to websocket.ts; a plain GET learns what to do (HTTP/2 has no Upgrade header).
        if (req.httpVersionMajor < 2) res.setHeader('Upgrade', 'websocket');
        return send(res, 426, 'upgrade required: /ws is a WebSocket\n');
      case '/info':
        return send(
          res,
          200,
          JSON.stringify({
            pid: context.pid,
            version: context.version,
            listener: context.listenerSource,
            startedAt: context.startedAt,
            draining: context.isDraining(),
            ...context.counts(),
          }) + '\n',
          'application/json',
        );
      default:
        return send(res, 404, 'not found\n');
    }
  };
}
