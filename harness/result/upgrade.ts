// Older result.json files, read as the current version. Version 3: what the
// runtime could see was implied by a `foreign` block (a server the gate did
// not start) and is now stated (runtime.observes); a skipped check's reason
// was only in its detail. Version 4: no latency tail, so such a run can be
// judged again only at its own latency budget. Version 5: every run was the
// closed model (no schedule, no calibration, never inconclusive). Nothing
// measured changes: an older run is judged again as it was.
import { IMAGE_SIGHT } from '../runtime/target/image.js';
import { AMONG_OTHERS } from '../runtime/ours/local.js';
import { SEES_ALL, type Sight } from '../runtime/runtime.js';
import { URL_SIGHT } from '../runtime/target/url.js';

interface V3 {
  schemaVersion: 3;
  totalRequests: number;
  failedRequests: number;
  checks: { skipped?: boolean; detail: string }[];
  parameters: {
    foreign?: {
      identity: string;
      identityGiven: boolean;
      path: string;
      ready: string;
      restart: string;
      seesProcesses: boolean;
    };
  } & Record<string, unknown>;
  runtime: { kind: string; description: string; facts: Record<string, string> };
  netCounters: { error: string | null };
  [key: string]: unknown;
}

function sightOf(doc: V3): Sight {
  const foreign = doc.parameters.foreign;
  const kernel = doc.netCounters.error ?? true;
  if (foreign) {
    const sight = foreign.seesProcesses ? IMAGE_SIGHT : URL_SIGHT;
    return {
      ...sight,
      identities: foreign.identity === 'none' ? '--identity none' : true,
      kernelCounters: foreign.seesProcesses ? kernel : sight.kernelCounters,
    };
  }
  if (doc.runtime.kind === 'local')
    return { ...SEES_ALL, processes: AMONG_OTHERS, fds: AMONG_OTHERS, kernelCounters: kernel };
  return { ...SEES_ALL, kernelCounters: kernel };
}

export function upgradeV3(doc: V3): { schemaVersion: 4 } & Record<string, unknown> {
  const { foreign, ...parameters } = doc.parameters;
  const { seesProcesses: _sees, ...server } = foreign ?? { seesProcesses: false };
  const { schemaVersion: _v, totalRequests, failedRequests, ...rest } = doc;
  return {
    schemaVersion: 4,
    passed: doc.passed,
    totalRequests,
    failedRequests,
    answered: totalRequests - failedRequests,
    failed: failedRequests,
    ...rest,
    checks: doc.checks.map((c) => (c.skipped ? { ...c, skipReason: c.detail.replace(/^skipped: /, '') } : c)),
    parameters: foreign ? { strategy: parameters.strategy, server, ...parameters } : parameters,
    runtime: { ...doc.runtime, observes: sightOf(doc) },
  };
}

interface V4 {
  schemaVersion: 4;
  modes: Record<string, unknown>[];
  [key: string]: unknown;
}

export function upgradeV4(doc: V4): { schemaVersion: 5 } & Record<string, unknown> {
  return {
    ...doc,
    schemaVersion: 5,
    modes: doc.modes.map((mode) => ({ ...mode, latencyTail: null })),
    latencyTail: null,
  };
}

interface V5 {
  schemaVersion: 5;
  parameters: Record<string, unknown>;
  modes: Record<string, unknown>[];
  [key: string]: unknown;
}

export function upgradeV5(doc: V5): { schemaVersion: 6 } & Record<string, unknown> {
  const { schemaVersion: _v, passed, ...rest } = doc;
  return {
    schemaVersion: 6,
    passed,
    inconclusive: false,
    ...rest,
    parameters: { ...doc.parameters, loadModel: 'closed', rate: null, maxConnections: null },
    calibration: null,
    modes: doc.modes.map((mode) => ({ ...mode, schedule: null })),
  };
}
