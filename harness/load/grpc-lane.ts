// The stream lane's gRPC kind (--grpc health): clients that keep
// grpc.health.v1.Health/Watch open through every restart with @grpc/grpc-js,
// each call on a channel of its own, as a client that watches a server's
// health does; when a Watch ends they watch again. Each end is kept with its
// gRPC status (OK, UNAVAILABLE, CANCELLED, ...). A Watch's messages carry no
// number, so none can be judged lost: the lane says how each call ended and
// how soon the next one had its first message.
import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import { type Ending, type RunningStreams, type StreamLaneOptions, startStreamLane } from './stream-lane.js';

/** An empty HealthCheckRequest: the whole server. */
const noService = () => Buffer.alloc(0);
const asBytes = (bytes: Buffer) => bytes;

export function startGrpcWatchLane(options: StreamLaneOptions): RunningStreams {
  // Loaded for a run that has the lane: every other run starts without it (30 ms here).
  const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as typeof Grpc;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return startStreamLane(options, ({ message, track }) => {
    const credentials = options.tls
      ? grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: !options.tls.insecure })
      : grpc.credentials.createInsecure();
    const client = new grpc.Client(`${host}:${options.port}`, credentials);
    return new Promise<Ending>((resolve) => {
      let opened = false;
      const call = client.makeServerStreamRequest(options.path, noService, asBytes, undefined);
      const untrack = track(() => call.cancel());
      call.on('metadata', () => (opened = true));
      call.on('data', () => message(undefined));
      // grpc-js reports every end as a status, errors included; the error event is the same end again.
      call.on('error', () => {});
      call.on('status', (status: Grpc.StatusObject) => {
        untrack();
        client.close();
        // No answer at all: the call never opened (a refused connection says UNAVAILABLE too).
        resolve(opened ? { how: 'status', code: status.code } : { how: 'error', code: status.code });
      });
    });
  });
}
