// A bare HTTP/2 client (prior knowledge, clear text) that writes and reads
// frames itself, for tests that must control what a client sends and when:
// Node's own client closes its session at the first GOAWAY and hides the
// frames. It speaks just enough of RFC 9113: the preface, SETTINGS and their
// acknowledgement, GET requests (HPACK without the dynamic table), PING
// answers, and it records every frame it reads.
import net from 'node:net';

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** A frame as read, with when it was read. */
export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
  at: number;
}

export interface Goaway {
  lastStreamId: number;
  code: number;
  at: number;
}

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK for GET `path` (RFC 7541): static-table names and values, literals never indexed. */
function getHeaders(path: string, authority: string): Buffer {
  const literal = (nameIndex: number, value: string) => {
    const bytes = Buffer.from(value);
    if (bytes.length > 126) throw new Error('h2-raw-client: header value too long for this client');
    // 0000 and a 4-bit name index; the value's length in 7 bits, no Huffman coding.
    return Buffer.concat([Buffer.from([nameIndex & 0x0f, bytes.length]), bytes]);
  };
  // 0x82 :method GET, 0x86 :scheme http; :path (index 4) and :authority (index 1) as literals without indexing.
  return Buffer.concat([Buffer.from([0x82, 0x86]), literal(4, path), literal(1, authority)]);
}

export class RawH2Client {
  readonly frames: Frame[] = [];
  readonly goaways: Goaway[] = [];
  readonly closed: Promise<void>;
  /** Called for each frame as it is read, before a PING is answered: what it sends goes out ahead of the answer. */
  onFrame?: (frame: Frame) => void;
  private nextStream = 1;
  private buffered = Buffer.alloc(0);
  private readonly socket: net.Socket;
  private readonly connected: Promise<void>;

  constructor(
    private readonly port: number,
    host = '127.0.0.1',
  ) {
    this.socket = net.connect(port, host);
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', () => {});
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  async open(): Promise<void> {
    await this.connected;
    this.socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
  }

  /** Sends GET `path` on a new stream; returns its id. */
  get(path: string): number {
    const id = this.nextStream;
    this.nextStream += 2;
    this.socket.write(
      frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, getHeaders(path, `127.0.0.1:${this.port}`)),
    );
    return id;
  }

  /** How a stream ended so far: answered (its last frame ended the stream), reset with a code, or nothing yet. */
  outcome(stream: number): { how: 'answered' } | { how: 'reset'; code: number } | { how: 'none' } {
    for (const f of this.frames) {
      if (f.stream !== stream) continue;
      if (f.type === FRAME.RST_STREAM) return { how: 'reset', code: f.payload.readUInt32BE(0) };
      if ((f.type === FRAME.DATA || f.type === FRAME.HEADERS) && f.flags & FLAG.END_STREAM) return { how: 'answered' };
    }
    return { how: 'none' };
  }

  /** Resolves once `holds` is true of what was read, or rejects after `ms`. */
  until(holds: () => boolean, ms = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`h2-raw-client: not seen within ${ms} ms`)), ms);
      const check = () => {
        if (!holds()) return;
        clearTimeout(deadline);
        this.socket.off('data', check);
        resolve();
      };
      this.socket.on('data', check);
      this.socket.once('close', check);
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) return;
      const f: Frame = {
        type: this.buffered[3]!,
        flags: this.buffered[4]!,
        stream: this.buffered.readUInt32BE(5) & 0x7fffffff,
        payload: this.buffered.subarray(9, 9 + length),
        at: Date.now(),
      };
      this.buffered = this.buffered.subarray(9 + length);
      this.frames.push(f);
      if (f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK)) this.socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
      if (f.type === FRAME.GOAWAY)
        this.goaways.push({
          lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff,
          code: f.payload.readUInt32BE(4),
          at: f.at,
        });
      this.onFrame?.(f);
      if (f.type === FRAME.PING && !(f.flags & FLAG.ACK)) this.socket.write(frame(FRAME.PING, FLAG.ACK, 0, f.payload));
    }
  }
}
