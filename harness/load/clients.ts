// The load clients a scenario drives, and the real ones. scenario.ts imports
// only the type, so that it runs with fakes in its tests.
import { type ChurnOptions, requestOnce, startChurnLoad } from './churn-load.js';
import { type LoadOptions, type RunningLoad, startKeepAliveLoad } from './keepalive-load.js';
import type { LoadSink, Outcome } from './recorder.js';

/** The load clients a scenario drives. */
export interface LoadClients {
  /** Keep-alive connections. */
  keepalive: (options: LoadOptions, sink: LoadSink) => RunningLoad;
  /** A new connection per request. */
  churn: (options: ChurnOptions, sink: LoadSink) => RunningLoad;
  /** One request on a connection of its own: a fault's long request. */
  once: (target: { host: string; port: number; timeoutSeconds: number }, path: string) => Promise<Outcome>;
}

export const LOAD_CLIENTS: LoadClients = {
  keepalive: startKeepAliveLoad,
  churn: startChurnLoad,
  once: (target, path) => requestOnce(target, path),
};
