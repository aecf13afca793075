// HTTPS targets: what every load client needs to speak TLS to one. The
// gate checks the certificate once, before any load (runtime/certificate.ts);
// the clients then verify it too, unless the user said --insecure (a
// self-signed certificate). autocannon never verifies: it is the keep-alive
// load, and the check at start is what stands for it.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

export interface TlsSettings {
  /** Accept any certificate (--insecure). */
  insecure: boolean;
}

/** A keep-alive agent of the target's protocol. */
export function agentFor(tls: TlsSettings | null | undefined, options: http.AgentOptions): http.Agent {
  return tls ? new https.Agent({ ...options, rejectUnauthorized: !tls.insecure }) : new http.Agent(options);
}

/** http.get or https.get, for the target. */
export function getFor(tls: TlsSettings | null | undefined): typeof http.get {
  return tls ? https.get : http.get;
}

/** Options a TLS connection to the target takes: the name to verify against (an IP address is verified as such). */
export function tlsOptions(tls: TlsSettings, host: string): { rejectUnauthorized: boolean; servername?: string } {
  return { rejectUnauthorized: !tls.insecure, ...(isIP(host) ? {} : { servername: host }) };
}
