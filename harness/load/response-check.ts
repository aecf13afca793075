// What counts as an answered request: a 2xx whose body names the PID in the
// X-Server-Pid header. Anything else, including a truncated or glued body
// that a parser still calls 200, is a failure.
import type { FailureCause } from './recorder.js';

const BODY = /^OK\. Handled by PID: (\d+)\n$/;

/** The PID recorded for a response whose process is not known (a server that does not say, see identity.ts). */
export const UNKNOWN_PID = 0;

export type Checked = { ok: true; pid: number; version: string } | { ok: false; cause: FailureCause };

/** Classifies one complete HTTP response; `version` is its X-Server-Version ('' when absent). */
export function checkResponse(status: number, pidHeader: string | undefined, body: string, version = ''): Checked {
  if (status < 200 || status > 299) return { ok: false, cause: 'non_2xx' };
  const match = BODY.exec(body);
  if (!match || match[1] !== pidHeader) return { ok: false, cause: 'corrupt_body' };
  return { ok: true, pid: Number(match[1]), version };
}

/** How a load client judges a response: status, a header lookup (lower-case name), the body. */
export type ResponseCheck = (status: number, header: (name: string) => string | undefined, body: string) => Checked;

/** Our own server's check, as a ResponseCheck. */
export const checkOurServer: ResponseCheck = (status, header, body) =>
  checkResponse(status, header('x-server-pid'), body, header('x-server-version'));
