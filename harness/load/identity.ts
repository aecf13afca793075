// Which process answered a response, for a server that is not ours: a header
// or a regular expression over the body, or nothing at all. Our own server's
// check (response-check.ts) is stricter: it also insists on its body.
import { type Checked, UNKNOWN_PID } from './response-check.js';

export type IdentitySpec = { kind: 'header'; name: string } | { kind: 'body'; pattern: RegExp; source: string } | { kind: 'none' };

/** The default: the header our server sends, used when the user's server sends it too. */
export const DEFAULT_IDENTITY: IdentitySpec = { kind: 'header', name: 'x-server-pid' };

export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** Parses `header:NAME`, `body:REGEX` or `none`. */
export function parseIdentity(text: string): IdentitySpec {
  if (text === 'none') return { kind: 'none' };
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const value = colon < 0 ? '' : text.slice(colon + 1);
  if (kind === 'header' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) return { kind: 'header', name: value.toLowerCase() };
  if (kind === 'body' && value) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(value);
    } catch (error) {
      throw new IdentityError(`--identity body:${value} is not a valid regular expression (${(error as Error).message})`);
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
 * Classifies one response of a user's server: any 2xx is answered. Its PID
 * is the identity's whole number (the regex's first group, or its match),
 * or UNKNOWN_PID when there is none: a missing identity is not a failed
 * request (the gate says so separately, see identifiedShare).
 */
export function checkForeign(spec: IdentitySpec, status: number, header: (name: string) => string | undefined, body: string): Checked {
  if (status < 200 || status > 299) return { ok: false, cause: 'non_2xx' };
  const version = header('x-server-version') ?? '';
  let raw: string | undefined;
  if (spec.kind === 'header') raw = header(spec.name);
  else if (spec.kind === 'body') {
    const match = spec.pattern.exec(body);
    raw = match ? (match[1] ?? match[0]) : undefined;
  }
  const pid = raw !== undefined && /^\s*\d{1,10}\s*$/.test(raw) ? Number(raw) : UNKNOWN_PID;
  return { ok: true, pid, version };
}
