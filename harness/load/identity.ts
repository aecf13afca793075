// Which process answered a response, for a server that is not ours: a header
// or a regular expression over the body, or nothing at all. Our own server's
// check (response-check.ts) is stricter: it also insists on its body.
import { type Checked, UNKNOWN_PID } from './response-check.js';

export type IdentitySpec =
  { kind: 'header'; name: string } | { kind: 'body'; pattern: RegExp; source: string } | { kind: 'none' };

/** The default: the header our server sends, used when the user's server sends it too. */
export const DEFAULT_IDENTITY: IdentitySpec = { kind: 'header', name: 'x-server-pid' };

/** A fleet's default: the host name our server sends, one per replica (a container's short ID). */
export const SWARM_IDENTITY: IdentitySpec = { kind: 'header', name: 'x-server-host' };

export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** Parses `header:NAME`, `body:REGEX` or `none`. */
export function parseIdentity(text: string): IdentitySpec {
  if (text === 'none') return { kind: 'none' };
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const value = colon < 0 ? '' : text.slice(colon + 1);
  if (kind === 'header' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value))
    return { kind: 'header', name: value.toLowerCase() };
  if (kind === 'body' && value) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(value);
    } catch (error) {
      throw new IdentityError(
        `--identity body:${value} is not a valid regular expression (${(error as Error).message})`,
      );
    }
    return { kind: 'body', pattern, source: value };
  }
  throw new IdentityError(`--identity must be header:NAME, body:REGEX or none, got '${text}'`);
}

export function describeIdentity(spec: IdentitySpec): string {
  if (spec.kind === 'header') return `header:${spec.name}`;
  if (spec.kind === 'body') return `body:${spec.source}`;
  return 'none';
}

/**
 * Identities that are names, not numbers: a host name or a container ID, as
 * each replica of a fleet answers (every replica's server may be PID 20).
 * Each name gets a number of its own, in the order first seen, and is
 * recorded under it like a PID; `names` says which is which.
 */
export class IdentityNames {
  private readonly numbers = new Map<string, number>();

  numberOf(name: string): number {
    let number = this.numbers.get(name);
    if (number === undefined) this.numbers.set(name, (number = this.numbers.size + 1));
    return number;
  }

  /** Number (as a string, the way buckets key identities) to name. */
  names(): Record<string, string> {
    return Object.fromEntries([...this.numbers].map(([name, number]) => [String(number), name]));
  }
}

/** At most this long, an identity that is not a whole number is a name: host names and container IDs fit, a whole body does not. */
const NAME = /^[\w.:-]{1,128}$/;

/**
 * Classifies one response of a user's server: any 2xx is answered. Its PID
 * is the identity's whole number (the regex's first group, or its match),
 * or, given `names`, the number of the name it carries instead; else
 * UNKNOWN_PID: a missing identity is not a failed request (the gate says so
 * separately, see identifiedShare).
 */
export function checkForeign(
  spec: IdentitySpec,
  status: number,
  header: (name: string) => string | undefined,
  body: string,
  names?: IdentityNames,
): Checked {
  if (status < 200 || status > 299) return { ok: false, cause: 'non_2xx' };
  const version = header('x-server-version') ?? '';
  let raw: string | undefined;
  if (spec.kind === 'header') raw = header(spec.name);
  else if (spec.kind === 'body') {
    const match = spec.pattern.exec(body);
    raw = match ? (match[1] ?? match[0]) : undefined;
  }
  const text = raw?.trim();
  if (text !== undefined && /^\d{1,10}$/.test(text)) return { ok: true, pid: Number(text), version };
  const pid = names && text !== undefined && NAME.test(text) ? names.numberOf(text) : UNKNOWN_PID;
  return { ok: true, pid, version };
}
