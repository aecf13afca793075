// Gate a service that already runs on this machine: load its URL, restart it
// with the user's host command. The gate starts and stops nothing of it, so
// it cannot see its processes: no leftovers probe, no exit lines.
import { DeadlineError } from '../../deadline.js';
import { duration } from '../../format.js';
import { SetupError, TargetError } from '../../errors.js';
import type { TlsSettings } from '../../load/tls.js';
import { checkCertificate } from '../certificate.js';
import { UNKNOWN_PID } from '../../load/response-check.js';
import { waitFor } from '../../wait.js';
import {
  limitedRestart,
  RESTART_KILL_GRACE_MS,
  type RestartRecord,
  type RestartRequest,
  type Runtime,
  type Sight,
  type Started,
  USER_COMMAND,
} from '../runtime.js';
import { limitedRunOf, runHostCommand } from '../host-command.js';
import { describeReady, readyStrategy, type ReadySpec } from '../readiness.js';

const NOT_STARTED = 'the gate did not start the service (--url), so it cannot tell which processes are its';

/** What the gate sees of a service it did not start: only the answers. */
export const URL_SIGHT: Sight = {
  identities: true,
  versions: 'the gate does not start your versions',
  restartEvents: 'the gate cannot see when your processes exit',
  exitLines: 'the gate reads no exit lines from your server',
  processes: NOT_STARTED,
  fds: NOT_STARTED,
  kernelCounters: 'the gate did not start the service (--url), so it does not know its network namespace',
};

export interface UrlRuntimeOptions {
  url: URL;
  restart: string;
  ready: ReadySpec;
  readyTimeoutSeconds: number;
  restartTimeoutSeconds: number;
  /** --identity none: responses say nothing of their process. */
  identityNone: boolean;
  /** An https:// URL: --insecure or not. */
  tls?: TlsSettings | null;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[?::1\]?|localhost)$/i;

/** Load goes to loopback only, unless the user says the target is theirs to load. */
export function checkTargetUrl(text: string, ownsTarget: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SetupError(`--url ${text} is not a URL; use http://127.0.0.1:PORT/PATH`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SetupError(`--url ${text}: use an http:// or https:// URL`);
  if (!LOOPBACK.test(url.hostname) && !ownsTarget) {
    throw new SetupError(
      `--url ${text} is not on this machine; the gate loads loopback addresses only (127.0.0.1, ::1, localhost) unless you pass --i-own-this-target`,
    );
  }
  return url;
}

/** A URL as an artifact may show it: a `user:password@` in it is nobody else's business. */
export function withoutUserinfo(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const shown = new URL(url.href);
  shown.username = '';
  shown.password = '';
  return shown.href;
}

export class UrlRuntime implements Runtime {
  readonly kind = 'url';
  readonly description: string;
  readonly facts: Record<string, string>;
  readonly observes: Sight;

  constructor(private readonly options: UrlRuntimeOptions) {
    this.observes = { ...URL_SIGHT, ...(options.identityNone ? { identities: '--identity none' } : {}) };
    this.description = `the service at ${options.url.origin} (already running; restarted on the host with: ${options.restart})`;
    this.facts = {
      runtime: 'url',
      url: withoutUserinfo(options.url),
      restart: options.restart,
      'restart runs': 'on the host',
    };
  }

  async start(): Promise<Started> {
    const host = this.options.url.hostname.replace(/^\[|\]$/g, '');
    const tls = this.options.tls;
    const port = Number(this.options.url.port || (tls ? 443 : 80));
    try {
      await waitFor(readyStrategy(this.options.ready, { host, port, tls: Boolean(tls) }), {
        timeoutMs: this.options.readyTimeoutSeconds * 1000,
        intervalMs: 100,
      });
    } catch (error) {
      if (error instanceof DeadlineError) {
        throw new TargetError(
          `${this.options.url.origin} was not ready (--ready ${describeReady(this.options.ready)}) within ${duration(this.options.readyTimeoutSeconds * 1000)}; start the service first`,
        );
      }
      throw error;
    }
    if (tls) await checkCertificate({ host, port }, tls, this.options.url.origin);
    return {
      target: { host, port, pid: UNKNOWN_PID },
      restart: (request) => this.restart(request),
      leftovers: async () => null,
      netCounters: () => URL_SIGHT.kernelCounters as string,
      serverLog: async () => '',
    };
  }

  private async restart({ index, version }: RestartRequest): Promise<RestartRecord> {
    const limitMs = this.options.restartTimeoutSeconds * 1000;
    return limitedRestart({ index, strategy: USER_COMMAND, version, limitMs }, async (limit) =>
      limitedRunOf(
        await runHostCommand(this.options.restart, { TARGET_URL: this.options.url.href }, limit, RESTART_KILL_GRACE_MS),
      ),
    );
  }

  async close(): Promise<void> {}
}
