// autocannon's Client, made to behave like a compliant HTTP/1.1 client.
//
// autocannon 8 writes its next request on a connection as soon as a response
// completes, even when that response said `Connection: close` (see
// node_modules/autocannon/lib/httpClient.js, the parser's message-complete
// handler). A draining server closes such a connection right after the
// response, so the request written on it is lost: silently on a FIN, as
// ECONNRESET on a reset. Browsers, undici, Go and wrk open a new connection
// instead; so does a client passed through makeCompliant().
//
// It also stops autocannon's reconnect storm: after a connection error it
// reconnects at once, tens of thousands of times a second while a port is
// closed. A compliant client waits a little first.

/** Delay before reconnecting after a connection error. */
export const RECONNECT_DELAY_MS = 20;

/** The parts of autocannon's (undocumented) Client that the adapter relies on. */
export interface AutocannonClient {
  destroyed: boolean;
  // Events: headers(info), response(status, bytes, ms), request, connError(error), timeout, done.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  _doRequest(...args: unknown[]): unknown;
  _connect(...args: unknown[]): unknown;
  _resetConnection(): unknown;
  /** The bytes of the request about to be written, called once per write. */
  getRequestBuffer(): Buffer;
  requestIterator: { currentRequestIndex: number };
}

/** The undocumented methods the adapter wraps or calls: an autocannon that renamed one is caught here, by name. */
const PRIVATE_METHODS = ['_doRequest', '_connect', '_resetConnection', 'getRequestBuffer', 'on'] as const;

/**
 * Throws, naming what is missing, when autocannon's Client is not the one
 * this adapter was written against (autocannon 8): without this a newer
 * autocannon would fail later, as a TypeError deep in a load, or worse, lose
 * requests again without a word.
 */
export function assertClientShape(client: object): asserts client is AutocannonClient {
  const missing = PRIVATE_METHODS.filter((name) => typeof (client as Record<string, unknown>)[name] !== 'function');
  if (missing.length)
    throw new Error(
      `autocannon's Client has no ${missing.join(', ')}: the compliant-client adapter (harness/load/compliant-client.ts) was written against autocannon 8's; install autocannon@8 (npm ci) or port the adapter`,
    );
}

/**
 * Patches one client (call it from autocannon's `setupClient` option). Once
 * `halted()` is true the client writes no new request and opens no new
 * connection: the load can stop at once instead of at autocannon's next tick.
 */
export function makeCompliant(client: AutocannonClient, halted: () => boolean = () => false): void {
  assertClientShape(client);
  const doRequest = client._doRequest;
  const connect = client._connect;
  let connectionClosing = false;
  let backOff = false;

  client.on('headers', (info: { shouldKeepAlive: boolean }) => {
    connectionClosing = !info.shouldKeepAlive;
  });
  client.on('connError', () => {
    backOff = true;
  });

  // Called right after each complete response, to send the next request.
  client._doRequest = function (this: AutocannonClient, ...args: unknown[]) {
    if (halted()) return undefined;
    if (connectionClosing) {
      connectionClosing = false;
      // Drops the (finished) connection and connects anew; _connect then
      // sends the next request on the fresh connection.
      return this._resetConnection();
    }
    return doRequest.apply(this, args);
  };

  client._connect = function (this: AutocannonClient, ...args: unknown[]) {
    if (halted()) return undefined;
    if (!backOff) return connect.apply(this, args);
    backOff = false;
    setTimeout(() => {
      if (!this.destroyed) connect.apply(this, args);
    }, RECONNECT_DELAY_MS);
    return undefined;
  };
}
