// One run: start the server, drive load, restart it N times at an interval,
// stop the load, and hand back everything measured as one plain object.
import { setTimeout as sleep } from 'node:timers/promises';
import { type LoadSnapshot, Recorder } from './load/recorder.js';
import { FAULTS, FAULTY_RESTART, type FaultName } from './faults.js';
import { type Outcome, record as recordOutcome, requestOnce, startChurnLoad } from './load/churn-load.js';
import { type RunningLoad, startKeepAliveLoad } from './load/keepalive-load.js';
import type { Leftovers, RestartRecord, Runtime, Strategy, Target } from './runtime/runtime.js';

export type LoadMode = 'keepalive' | 'churn' | 'both';

export interface ScenarioOptions {
  strategy: Strategy;
  load: LoadMode;
  connections: number;
  restarts: number;
  intervalMs: number;
  warmupMs: number;
  cooldownMs: number;
  bucketMs: number;
  requestTimeoutSeconds: number;
  fault?: FaultName;
}

/** What was injected, and what became of the injected long request. */
export interface FaultRecord {
  name: FaultName;
  summary: string;
  restartIndex: number;
  slowRequest?: { path: string; outcome: Outcome };
}

export interface ScenarioResult {
  options: ScenarioOptions;
  runtime: { kind: string; description: string; facts: Record<string, string> };
  target: Target;
  load: LoadSnapshot;
  /** Requests autocannon still had on the wire when it was stopped: neither answered nor failed. */
  inFlightAtStop: number;
  restarts: RestartRecord[];
  fault?: FaultRecord;
  /** Processes, zombies and fds left in the container; null where not checked. */
  leftovers: Leftovers | null;
  /** Set when the run did not finish (Ctrl-C, lost engine, ...). */
  interrupted?: string;
}

export interface ScenarioHooks {
  signal?: AbortSignal;
  onRecorder?: (recorder: Recorder) => void;
  onRestart?: (record: RestartRecord) => void;
}

/** How the load was generated, for the report. */
export function describeLoad(options: Pick<ScenarioOptions, 'load' | 'connections'>): string {
  const keepalive = `autocannon, ${options.connections} keep-alive connections, made to honour Connection: close like a compliant HTTP/1.1 client`;
  const churn = `${options.connections} loops of one request per new connection (Node http, no agent)`;
  return options.load === 'keepalive' ? keepalive : options.load === 'churn' ? churn : `${keepalive}; and ${churn}`;
}

/** Runs the scenario; the caller owns the runtime and closes it. */
export async function runScenario(runtime: Runtime, options: ScenarioOptions, hooks: ScenarioHooks = {}): Promise<ScenarioResult> {
  const fault = options.fault ? FAULTS[options.fault] : undefined;
  const target = await runtime.start(fault?.serverEnv);
  const recorder = new Recorder(options.bucketMs);
  hooks.onRecorder?.(recorder);
  const plannedMs = options.warmupMs + options.restarts * options.intervalMs + options.cooldownMs;
  // Hard bound for the load clients in case stop() is never reached.
  const maxSeconds = Math.ceil(plannedMs / 1000) + 120;

  const loads: RunningLoad[] = [];
  if (options.load !== 'churn') {
    loads.push(startKeepAliveLoad({ url: `http://${target.host}:${target.port}/`, connections: options.connections, maxSeconds, timeoutSeconds: options.requestTimeoutSeconds }, recorder));
  }
  if (options.load !== 'keepalive') {
    loads.push(startChurnLoad({ host: target.host, port: target.port, concurrency: options.connections, maxSeconds, timeoutSeconds: options.requestTimeoutSeconds }, recorder));
  }

  const restarts: RestartRecord[] = [];
  const faultRecord: FaultRecord | undefined = options.fault && fault ? { name: options.fault, summary: fault.summary, restartIndex: FAULTY_RESTART } : undefined;
  let slowRequest: Promise<{ path: string; outcome: Outcome }> | undefined;
  let interrupted: string | undefined;
  try {
    await sleep(options.warmupMs, undefined, { signal: hooks.signal });
    for (let index = 1; index <= options.restarts; index++) {
      const faulty = index === FAULTY_RESTART && fault !== undefined;
      if (faulty && fault.slowRequestMs) {
        const path = `/slow?ms=${fault.slowRequestMs(options.intervalMs)}`;
        // Counted like any request, at the time it settles.
        slowRequest = requestOnce({ ...target, timeoutSeconds: options.requestTimeoutSeconds + 60 }, path).then((outcome) => {
          recordOutcome(recorder, outcome);
          return { path, outcome };
        });
        await sleep(100); // on the wire before the restart begins
      }
      const tweaks = faulty ? { args: fault.restartArgs, env: fault.restartEnv, timeoutSeconds: fault.restartTimeoutSeconds } : undefined;
      const record = await runtime.restart(index, options.strategy, `v${index + 1}`, tweaks);
      restarts.push(record);
      hooks.onRestart?.(record);
      // A hung restart ends the run: what it left behind is unknown.
      if (record.timedOut) throw new Error(record.timedOut);
      const spent = Date.now() - record.triggeredAt;
      const pause = index < options.restarts ? options.intervalMs - spent : options.cooldownMs;
      await sleep(Math.max(0, pause), undefined, { signal: hooks.signal });
    }
  } catch (error) {
    interrupted = hooks.signal?.aborted ? String(hooks.signal.reason ?? 'interrupted') : (error as Error).message;
  }

  let inFlightAtStop = 0;
  for (const stopped of await Promise.all(loads.map((load) => load.stop()))) inFlightAtStop += stopped.inFlightAtStop;
  if (slowRequest && faultRecord) faultRecord.slowRequest = await slowRequest;
  recorder.end();
  const leftovers = interrupted ? null : await runtime.leftovers().catch(() => null);
  return {
    options,
    runtime: { kind: runtime.kind, description: runtime.description, facts: runtime.facts },
    target,
    load: recorder.snapshot(),
    inFlightAtStop,
    restarts,
    fault: faultRecord,
    leftovers,
    interrupted,
  };
}
