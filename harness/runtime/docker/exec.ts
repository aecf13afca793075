// docker exec with a time limit: a command in a running container, its
// output and exit code. Our runtime probes and restarts through it, and so
// does the gate's runtime for a user's image.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { withDeadline } from '../../deadline.js';

/** Time limit of a probe (reading /proc, versions) run through exec. */
export const PROBE_TIMEOUT_MS = 30_000;

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs a command in a running container and collects its output and exit
 * code. Throws DeadlineError when it has not finished within `timeoutMs`
 * (the exec's stream is then dropped; the engine ends the process with the
 * container).
 */
export async function execIn(
  container: Docker.Container,
  cmd: string[],
  env: string[] = [],
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ExecResult> {
  let stream: NodeJS.ReadWriteStream | undefined;
  const run = async () => {
    const exec = await container.exec({ Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true });
    stream = await exec.start({ hijack: true, stdin: false });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk) => (out += chunk));
    stderr.on('data', (chunk) => (err += chunk));
    container.modem.demuxStream(stream, stdout, stderr);
    await new Promise<void>((resolve, reject) => {
      stream!.on('end', resolve);
      stream!.on('close', resolve);
      stream!.on('error', reject);
    });
    const { ExitCode } = await exec.inspect();
    return { stdout: out, stderr: err, exitCode: ExitCode ?? 1 };
  };
  return withDeadline(run(), timeoutMs, `docker exec ${cmd.join(' ').slice(0, 60)}`, () =>
    (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.(),
  );
}
