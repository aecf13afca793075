// Builds the image through dockerode from a tar of the build context.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import tar from 'tar-fs';
import { TargetError } from '../../errors.js';

/** Name of the optional CA bundle in the build context (see Dockerfile). */
export const EXTRA_CA_FILE = 'extra-ca.pem';

export interface BuildOptions {
  contextDir: string;
  image: string;
  nodeVersion: string;
  /** The Dockerfile stage to build: 'runtime' (the default image) or 'systemd'. */
  target?: string;
  /** The Dockerfile's path inside the context (default: Dockerfile). */
  dockerfile?: string;
  /** Called with each build step line ("Step 3/15 : RUN npm ci"). */
  onStep?: (line: string) => void;
}

/** Top-level names listed in .dockerignore (the only form this project uses). */
function ignoredNames(contextDir: string): Set<string> {
  const file = join(contextDir, '.dockerignore');
  if (!existsSync(file)) return new Set();
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim().replace(/^\/+|\/+$/g, ''))
      .filter((line) => line && !line.startsWith('#')),
  );
}

/**
 * A tar stream of the context. The host's NODE_EXTRA_CA_CERTS bundle, when
 * set, goes in as extra-ca.pem: npm ci in the build then trusts a
 * TLS-intercepting proxy the way npm on the host does.
 */
export function contextTar(contextDir: string, extraCaPath = process.env.NODE_EXTRA_CA_CERTS): NodeJS.ReadableStream {
  const ignored = ignoredNames(contextDir);
  const extraCa = extraCaPath && existsSync(extraCaPath) ? readFileSync(extraCaPath) : undefined;
  return tar.pack(contextDir, {
    ignore: (name) => ignored.has(name.slice(contextDir.length + 1).split('/')[0] ?? ''),
    finalize: false,
    finish: (pack) => {
      if (extraCa) pack.entry({ name: EXTRA_CA_FILE, mode: 0o644 }, extraCa);
      pack.finalize();
    },
  }) as unknown as NodeJS.ReadableStream;
}

interface BuildMessage {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Builds `image`; throws SetupError with the failing step's output tail. */
export async function buildImage(docker: Docker, options: BuildOptions): Promise<void> {
  const stream = await docker.buildImage(contextTar(options.contextDir), {
    t: options.image,
    ...(options.dockerfile ? { dockerfile: options.dockerfile } : {}),
    buildargs: { NODE_VERSION: options.nodeVersion },
    // The legacy builder builds the last stage by default; ours is the systemd one.
    target: options.target ?? 'runtime',
    rm: true,
    forcerm: true,
  });
  const output: string[] = [];
  let failure: string | undefined;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : resolve()),
      (message: BuildMessage) => {
        if (message.stream) {
          for (const line of message.stream.split('\n')) {
            if (!line.trim()) continue;
            output.push(line);
            if (/^Step \d+\/\d+ :/.test(line)) options.onStep?.(line);
          }
          if (output.length > 400) output.splice(0, output.length - 200);
        }
        // A failed build still ends the stream normally: the error is a message.
        if (message.error) failure = message.errorDetail?.message ?? message.error;
      },
    );
  });
  if (failure) {
    const tail = output
      .slice(-20)
      .map((line) => `    ${line}`)
      .join('\n');
    const hint =
      /pull access denied|manifest unknown|not found: manifest|failed to resolve|dial tcp|no such host/i.test(failure)
        ? `; the base image node:${options.nodeVersion}-bookworm(-slim) is missing and cannot be pulled: run scripts/setup/base-images.sh ${options.nodeVersion}`
        : '';
    throw new TargetError(
      `docker build of ${options.image} failed: ${failure.trim()}${hint}\n  last build output:\n${tail}`,
    );
  }
}
