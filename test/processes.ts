// Test helpers: real server processes on 127.0.0.1, ended by PID after each test.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const SERVER_MAIN = join(ROOT, 'dist/server/main.js');
export const SCRIPTS = join(ROOT, 'scripts');
/** Test fixtures: recorded runs, a self-signed certificate (tls/). */
export const FIXTURES = join(ROOT, 'test/fixtures');

export interface LogLine {
  event: string;
  pid: number;
  [field: string]: unknown;
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  logs: LogLine[];
  stderr: () => string;
  /** Resolves on the first log line with this event. */
  waitFor(event: string): Promise<LogLine>;
  exited: Promise<number | null>;
}

const started: ChildProcess[] = [];
const dirs: string[] = [];

/** Registers a process that cleanup() must end (by PID) even if its test times out. */
export function track<T extends ChildProcess>(child: T): T {
  started.push(child);
  return child;
}

/** A fresh state directory, removed by cleanup(). */
export function tempDir(prefix = 'reuseport-lab-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Starts dist/server/main.js on 127.0.0.1 with an ephemeral port unless env says otherwise. */
export function startServer(
  env: NodeJS.ProcessEnv = {},
  options: { stdio?: (number | 'pipe' | 'ignore')[] } = {},
): ServerProcess {
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', STATE_DIR: tempDir(), ...env },
    stdio: (options.stdio ?? ['ignore', 'pipe', 'pipe']) as never,
  });
  started.push(child);
  const logs: LogLine[] = [];
  const waiters: { event: string; resolve: (line: LogLine) => void }[] = [];
  let buffer = '';
  let errors = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = JSON.parse(buffer.slice(0, newline)) as LogLine;
      buffer = buffer.slice(newline + 1);
      logs.push(line);
      for (const waiter of waiters.filter((w) => w.event === line.event)) waiter.resolve(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const server: ServerProcess = {
    child,
    port: 0,
    logs,
    stderr: () => errors,
    exited,
    waitFor(event) {
      const seen = logs.find((l) => l.event === event);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        waiters.push({ event, resolve: resolveLine });
        void exited.then((code) => reject(new Error(`server exited (${code}) before "${event}"; stderr: ${errors}`)));
      });
    },
  };
  return server;
}

/** Starts a server and waits until it is ready; fills in its port. */
export async function startReadyServer(env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const server = startServer(env);
  const listening = await server.waitFor('listening');
  server.port = listening.port as number;
  await server.waitFor('ready');
  return server;
}

/** Ends every process and directory the helpers made. */
export async function cleanup(): Promise<void> {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface RawResponse {
  head: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw keep-alive HTTP/1.1 connection: one request at a time, responses parsed just enough for tests. */
export class RawConnection {
  readonly socket: net.Socket;
  private data = '';
  private pending?: () => void;
  readonly ended: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      this.data += chunk;
      this.pending?.();
    });
    this.socket.on('error', () => {});
    this.ended = new Promise((done) => this.socket.on('close', () => done()));
  }

  async request(path: string): Promise<RawResponse> {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
    for (;;) {
      const response = this.take();
      if (response) return response;
      // One close listener per wait, removed when data wakes it: a long-lived connection must not pile them up.
      await new Promise<void>((wake, fail) => {
        const closed = () => fail(new Error(`connection closed before a response to ${path}`));
        this.socket.once('close', closed);
        this.pending = () => {
          this.socket.off('close', closed);
          wake();
        };
      });
    }
  }

  private take(): RawResponse | undefined {
    const end = this.data.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    const head = this.data.slice(0, end);
    const headers = Object.fromEntries(
      head
        .split('\r\n')
        .slice(1)
        .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const length = Number(headers['content-length'] ?? 0);
    if (this.data.length < end + 4 + length) return undefined;
    const body = this.data.slice(end + 4, end + 4 + length);
    this.data = this.data.slice(end + 4 + length);
    return { head, status: Number(head.split(' ')[1]), headers, body };
  }
}
