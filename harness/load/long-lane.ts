// The long-request lane: a few connections that each keep one long request
// (an endpoint that takes seconds) in flight, one after another, so every
// restart finds requests in a server's hands. A server that drains finishes
// them; one that does not cuts them (`cut_in_flight`). The lane reports
// them as any load does; the run counts them with its own as long on
// purpose (recorder.ts, longOnPurpose): never put to the latency budget. The
// request timeout still applies. At stop the lane sends nothing new and
// waits for what is in flight: a long request is not abandoned half-way as
// the other loads' are.
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { getOnce } from './http-get.js';
import type { RunningLoad } from './keepalive-load.js';
import { type LoadSink, record } from './recorder.js';
import type { ResponseCheck } from './response-check.js';
import { agentFor, type TlsSettings } from './tls.js';

export interface LongLaneOptions {
  host: string;
  port: number;
  tls?: TlsSettings | null;
  path: string;
  connections: number;
  timeoutSeconds: number;
  check: ResponseCheck;
}

/** After a connection failed (nothing listening, a reset), a pause before the next try, so a lane cannot spin. */
const RETRY_DELAY_MS = 50;

export function startLongLane(options: LongLaneOptions, sink: LoadSink): RunningLoad {
  let stopping = false;
  const agents: http.Agent[] = [];
  const loop = async () => {
    const agent = agentFor(options.tls, { keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    while (!stopping) {
      sink.written();
      const outcome = await getOnce(agent, options, options.path, options.timeoutSeconds * 1000, options.check);
      record(sink, outcome);
      if (!outcome.ok && !stopping) await sleep(RETRY_DELAY_MS);
    }
  };
  const loops = Array.from({ length: options.connections }, loop);
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
      for (const agent of agents) agent.destroy();
    },
  };
}
