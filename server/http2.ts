// HTTP/2 beside HTTP/1.1 on the one listener. Over TLS the client names its
// protocol in the handshake (ALPN: h2 or http/1.1). In clear text a client
// that speaks HTTP/2 with prior knowledge (h2c) opens with the connection
// preface, "PRI * HTTP/2.0", which no HTTP/1.1 request starts with (RFC 9113,
// 3.4), so a connection's first bytes tell the two apart. An HTTP/2
// connection becomes a session of an http2 server that never listens itself;
// its requests reach the same handler through Node's compatibility API.
//
// The session reads and writes its connection through a SessionPipe, so that
// the drain can put a GOAWAY notice between two of its writes (drain.ts, line
// 10): Node's API has no such notice (its goaway() makes nghttp2 take no new
// stream at once), and a write of our own straight to a socket the session
// has taken over ends in a failed assertion in Node's native code.
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import http2, { type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';

/** What a client that speaks HTTP/2 with prior knowledge sends first; no HTTP/1.1 method is "PRI". */
const PREFACE_START = Buffer.from('PRI ');

/** The protocols a TLS server offers in its handshake, most preferred first. */
export const ALPN_PROTOCOLS = ['h2', 'http/1.1'];

export interface Http2Hooks {
  /** `socket` carries HTTP/2 from now on: it is a session's, not an HTTP/1.1 connection's. */
  onHttp2Socket: (socket: Socket) => void;
  /** A session began on one of the server's connections, through `pipe`. */
  onSession: (session: ServerHttp2Session, pipe: SessionPipe) => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves HTTP/2 on `server`'s connections beside its HTTP/1.1, with
 * `handler` for the requests of both. Call before anything else listens for
 * the server's connections: it takes the place of Node's own HTTP/1.1
 * connection listener and hands each connection to the protocol it speaks.
 */
export function serveHttp2Beside(server: HttpServer, handler: Handler, hooks: Http2Hooks): Http2Server {
  const secure = server instanceof tls.Server;
  const event = secure ? 'secureConnection' : 'connection';
  const own = server.listeners(event);
  if (own.length !== 1) throw new Error(`serveHttp2Beside: expected Node's one ${event} listener, found ${own.length}`);
  const http1 = own[0] as (socket: Socket) => void;
  server.removeListener(event, http1);

  const h2 = http2.createServer();
  // The session is made while its connection is handed over (below), so the socket being handed over is its own.
  let handingOver: SessionPipe | undefined;
  h2.on('session', (session: ServerHttp2Session) => hooks.onSession(session, handingOver!));
  // The compatibility API's request and response have what the handler uses (url, method, headers, writeHead,
  // setHeader, write, end, 'close'); a handler that sets a header HTTP/2 forbids checks httpVersionMajor first.
  h2.on('request', (req, res) => handler(req as unknown as IncomingMessage, res as unknown as ServerResponse));
  const toHttp2 = (socket: Socket) => {
    hooks.onHttp2Socket(socket);
    handingOver = new SessionPipe(socket);
    h2.emit('connection', handingOver);
    handingOver = undefined;
  };

  if (secure) {
    server.on(event, (socket: TLSSocket) =>
      socket.alpnProtocol === 'h2' ? toHttp2(socket) : http1.call(server, socket),
    );
    return h2;
  }
  server.on(event, (socket: Socket) => {
    let read: Buffer = Buffer.alloc(0);
    const sniff = (chunk: Buffer) => {
      read = read.length ? Buffer.concat([read, chunk]) : chunk;
      const verdict = protocolOf(read);
      if (verdict === 'undecided') return; // "P", "PR" or "PRI": POST, PUT and PATCH start so too
      socket.removeListener('data', sniff);
      socket.pause();
      if (verdict === 'h2') {
        // The session reads the socket from its start: the preface goes back in front.
        socket.unshift(read);
        toHttp2(socket);
        return;
      }
      // Node's HTTP/1.1 parser reads the socket's handle directly once attached, so what was already read
      // is handed to it as its own 'data' listener would have seen it.
      http1.call(server, socket);
      socket.emit('data', read);
      socket.resume();
    };
    socket.on('data', sniff);
  });
  return h2;
}

/** What a connection's first bytes say: HTTP/2's preface, HTTP/1.1, or too few bytes to tell. */
export function protocolOf(first: Buffer): 'h2' | 'http/1.1' | 'undecided' {
  const n = Math.min(first.length, PREFACE_START.length);
  if (!first.subarray(0, n).equals(PREFACE_START.subarray(0, n))) return 'http/1.1';
  return n === PREFACE_START.length ? 'h2' : 'undecided';
}

/**
 * A GOAWAY frame (RFC 9113, 6.8) on stream 0: `lastStreamId`, then the error
 * code, with no debug data.
 */
export function goawayFrame(lastStreamId: number, code = 0): Buffer {
  const frame = Buffer.alloc(9 + 8);
  frame.writeUIntBE(8, 0, 3);
  frame[3] = 0x7; // GOAWAY
  frame.writeUInt32BE(lastStreamId & 0x7fffffff, 9);
  frame.writeUInt32BE(code, 13);
  return frame;
}

/**
 * The connection as an HTTP/2 session sees it: what the socket reads, and
 * what the session writes, in order. Node runs a session over a stream that
 * is not a socket of its own through a JS wrapper that hands each batch of
 * whole frames over in one synchronous loop; so whatever is written here in
 * another turn of the event loop (insert) lands between two batches, never
 * inside a frame.
 */
export class SessionPipe extends Duplex {
  constructor(private readonly socket: Socket) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  /** Writes whole frames of our own after every frame the session has written so far. */
  insert(frames: Buffer): void {
    if (!this.destroyed && this.writable) this.write(frames);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy(error ?? undefined);
    callback(error);
  }
}
