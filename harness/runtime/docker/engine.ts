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
