// An HTTPS target's certificate, checked once before any load: a certificate
// the clients would refuse is one line that says what to do, not a run of
// failed requests. With --insecure only the handshake itself is checked.
import tls from 'node:tls';
import { TargetError } from '../errors.js';
import { type TlsSettings, tlsOptions } from '../load/tls.js';

/** OpenSSL's verification failures, as Node names them, and Node's own host name check. */
const UNTRUSTED = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;

const HANDSHAKE_TIMEOUT_MS = 5000;

/** Resolves once a TLS handshake with host:port succeeds as the load's clients will make it; a SetupError otherwise. */
export async function checkCertificate(
  target: { host: string; port: number },
  settings: TlsSettings,
  origin: string,
): Promise<void> {
  const problem = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const socket = tls.connect({ host: target.host, port: target.port, ...tlsOptions(settings, target.host) });
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => {
      socket.destroy();
      resolve(Object.assign(new Error(`no handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error));
  });
  if (!problem) return;
  // Node 24 appends advice of its own after a ';' (--use-system-ca); ours follows instead.
  const why = `${problem.code ? `${problem.code}: ` : ''}${problem.message.split(';')[0]}`;
  if (UNTRUSTED.test(problem.code ?? '')) {
    throw new TargetError(
      `${origin}: its certificate is not trusted (${why}); pass --insecure to gate it anyway (a self-signed certificate), or trust its CA with NODE_EXTRA_CA_CERTS=ca.pem`,
    );
  }
  throw new TargetError(`${origin}: no TLS handshake (${why}); does it serve HTTPS on port ${target.port}?`);
}
