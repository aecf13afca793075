// When a user's server is ready to be loaded, as a wait strategy: its port
// accepts a connection, a path answers 2xx, its log prints a line, a fixed
// delay, or the image's own HEALTHCHECK says healthy. Nothing in the user's
// image is assumed unless asked for (no shell, no Node): every other probe
// runs from the host.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SetupError, TargetError } from '../errors.js';
import { httpOk, type WaitStrategy } from '../wait.js';
import { pathProblem } from '../load/request-line.js';

export type ReadySpec =
  | { kind: 'port' }
  | { kind: 'http'; path: string }
  | { kind: 'log'; pattern: RegExp; source: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'healthcheck' };

export function parseReady(text: string): ReadySpec {
  if (text === 'port') return { kind: 'port' };
  if (text === 'healthcheck') return { kind: 'healthcheck' };
  if (text.startsWith('http:') && text.slice(5).startsWith('/')) {
    const problem = pathProblem(text.slice(5));
    if (problem) throw new SetupError(`--ready http:PATH: ${problem}`);
    return { kind: 'http', path: text.slice(5) };
  }
  if (text.startsWith('log:') && text.length > 4) {
    try {
      return { kind: 'log', pattern: new RegExp(text.slice(4)), source: text.slice(4) };
    } catch (error) {
      throw new SetupError(`--ready ${text}: not a valid regular expression (${(error as Error).message})`);
    }
  }
  if (text.startsWith('delay:') && /^\d{1,7}$/.test(text.slice(6))) return { kind: 'delay', ms: Number(text.slice(6)) };
  throw new SetupError(`--ready must be port, http:/PATH, log:REGEX, delay:MS or healthcheck, got '${text}'`);
}

export function describeReady(spec: ReadySpec): string {
  if (spec.kind === 'http') return `http:${spec.path}`;
  if (spec.kind === 'log') return `log:${spec.source}`;
  if (spec.kind === 'delay') return `delay:${spec.ms}`;
  return spec.kind;
}

/** A TCP connection to host:port succeeds. */
export function portOpen(host: string, port: number): WaitStrategy<true> {
  return {
    what: `port ${port} accepting connections`,
    probe: () =>
      new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (ok: boolean) => {
          socket.destroy();
          resolve(ok ? true : undefined);
        };
        socket.setTimeout(2000, () => done(false));
        socket.once('connect', () => done(true));
        socket.once('error', () => done(false));
      }),
  };
}

/**
 * The wait strategy for a spec. `logs` reads the server's output so far
 * (image mode only); `alive` throws when the server is gone, so a server
 * that exits at start fails at once instead of at the time limit.
 */
export function readyStrategy(
  spec: ReadySpec,
  target: { host: string; port: number; tls?: boolean },
  hooks: { logs?: () => Promise<string>; alive?: () => Promise<void>; health?: () => Promise<string | null> } = {},
): WaitStrategy<true> {
  const alive = hooks.alive ?? (async () => {});
  if (spec.kind === 'healthcheck') {
    const health = hooks.health;
    if (!health) throw new SetupError('--ready healthcheck needs --image: only a container has a HEALTHCHECK to read');
    return {
      what: "the image's HEALTHCHECK saying healthy",
      probe: async () => {
        await alive();
        const status = await health();
        if (status === null)
          throw new TargetError(
            'the image declares no HEALTHCHECK, so --ready healthcheck has nothing to wait for; use --ready http:/PATH or port',
          );
        return status === 'healthy' ? true : undefined;
      },
    };
  }
  if (spec.kind === 'port') {
    const open = portOpen(target.host, target.port);
    return { what: open.what, probe: async () => (await alive(), open.probe()) };
  }
  if (spec.kind === 'http') {
    const ok = httpOk(`${target.tls ? 'https' : 'http'}://${target.host}:${target.port}${spec.path}`);
    return { what: ok.what, probe: async () => (await alive(), (await ok.probe()) === undefined ? undefined : true) };
  }
  if (spec.kind === 'log') {
    const logs = hooks.logs;
    if (!logs) throw new SetupError('--ready log:REGEX needs --image: there is no log to read for --url');
    return {
      what: `a log line matching /${spec.source}/`,
      probe: async () => (await alive(), spec.pattern.test(await logs()) ? true : undefined),
    };
  }
  let started: number | undefined;
  return {
    what: `${spec.ms} ms after start`,
    probe: async () => {
      started ??= Date.now();
      await alive();
      const left = started + spec.ms - Date.now();
      if (left > 0) await sleep(Math.min(left, 200));
      return Date.now() >= started + spec.ms ? true : undefined;
    },
  };
}
