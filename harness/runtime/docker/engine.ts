// Reaching the Docker engine.
import Docker from 'dockerode';

/** Label on everything the harness creates, so leftovers can be found: `docker ps -a --filter label=reuseport-lab`. */
export const LABEL = 'reuseport-lab';

/**
 * A client for the engine named by DOCKER_HOST or the default socket.
 * dockerode does not negotiate the API version, so none is set: the engine's
 * own is used (Debian's docker.io 20.10 speaks 1.41).
 */
export function connect(): Docker {
  return new Docker();
}

/** True when the engine answers a ping within `timeoutMs`. */
export async function engineAnswers(docker: Docker, timeoutMs = 3000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      docker.ping().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The text of `container.logs()` for a container without a TTY: the engine
 * frames each chunk with an 8-byte header (stream, 3 zero bytes, length).
 */
export function demuxLogs(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buffer.length && buffer[at + 1] === 0 && buffer[at + 2] === 0 && buffer[at + 3] === 0) {
    const length = buffer.readUInt32BE(at + 4);
    parts.push(buffer.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  // Not framed after all (a TTY): the bytes are the text.
  return at === 0 ? buffer.toString('utf8') : Buffer.concat(parts).toString('utf8');
}
