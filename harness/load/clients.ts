// The load clients a scenario drives, and the real ones. keepalive and churn
// are the closed model's (each connection or loop sends its next request when
// the last is answered); open sends on an arrival schedule. scenario.ts imports
// only the type, so that it runs with fakes in its tests.
import { startGrpcWatchLane } from './grpc-lane.js';
import { type ChurnOptions, startChurnLoad } from './churn-load.js';
import { type HeldRequest, heldRequest } from './held-request.js';
import { type LoadOptions, type RunningLoad, startKeepAliveLoad } from './keepalive-load.js';
import { type LongLaneOptions, startLongLane } from './long-lane.js';
import { type OpenLoadOptions, startOpenLoad } from './open-load.js';
import type { ScheduleSink } from './arrivals.js';
import type { LoadSink } from './recorder.js';
import { startSseLane } from './sse-lane.js';
import type { RunningStreams, StreamKind, StreamLaneOptions } from './stream-lane.js';
import { startWsLane } from './ws-lane.js';

/** The load clients a scenario drives. */
export interface LoadClients {
  /** Keep-alive connections. */
  keepalive: (options: LoadOptions, sink: LoadSink) => RunningLoad;
  /** A new connection per request. */
  churn: (options: ChurnOptions, sink: LoadSink) => RunningLoad;
  /** Either mode in the open model: requests on an arrival schedule (open-load.ts). */
  open: (options: OpenLoadOptions, sink: LoadSink, schedule: ScheduleSink) => RunningLoad;
  /** A fault's long request, sent once a server holds its connection (held-request.ts). */
  longRequest: (target: { host: string; port: number; timeoutSeconds: number }, path: string) => HeldRequest;
  /** Long requests kept in flight through every restart (long-lane.ts). */
  longLane: (options: LongLaneOptions, sink: LoadSink) => RunningLoad;
  /** Streams kept open through every restart (stream-lane.ts). */
  streamLane: (kind: StreamKind, options: StreamLaneOptions) => RunningStreams;
}

export const LOAD_CLIENTS: LoadClients = {
  keepalive: startKeepAliveLoad,
  churn: startChurnLoad,
  open: startOpenLoad,
  longRequest: heldRequest,
  longLane: startLongLane,
  streamLane: (kind, options) =>
    kind === 'ws' ? startWsLane(options) : kind === 'grpc' ? startGrpcWatchLane(options) : startSseLane(options),
};
