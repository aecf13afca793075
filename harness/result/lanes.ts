// The load's lanes as one list. A run's load is made of lanes: each load mode
// (keep-alive, a new connection per request), each kind of a request mix, the
// long lane and the stream lane. The record keeps each family where earlier
// versions put it (result.json stays as it was); lanesOf() reads them back as
// one list of one type, in the order every report lists them, so that the
// checks and the views iterate lanes instead of naming each family. A new
// kind of lane (HTTP/2 streams, gRPC calls) is one more case here.
import { MODE_NAMES, type LoadMode } from '../load/modes.js';
import type { Ending, StreamKind } from '../load/stream-lane.js';
import type { RunRecord } from './record.js';

type ModeRecord = RunRecord['modes'][number];
type KindRecord = NonNullable<RunRecord['requests']>[number];
type LongLaneRecord = NonNullable<RunRecord['longLane']>;
type StreamRecord = NonNullable<RunRecord['stream']>;
type Latency = ModeRecord['steady']['latency'];

/** What happened to a lane's requests: each written one answered, failed or still in flight at the stop. */
export interface Ledger {
  written: number;
  answered: number;
  failed: number;
  inFlightAtStop: number;
  failuresByCause: ModeRecord['failuresByCause'];
}

interface LaneCommon {
  /** Stable within a run: `mode:keepalive`, `request:0`, `long`, `stream`. */
  id: string;
  /** For people: `keep-alive`, `POST /submit ×3`, `long requests (2 × /slow?ms=3000)`, `streams (4 × sse:/events)`. */
  label: string;
}

/** A load mode: its requests are the run's, and its latency is the warm-up's (steady state). */
export interface ModeLane extends LaneCommon {
  kind: 'mode';
  mode: LoadMode;
  ledger: Ledger;
  latency: Latency;
  record: ModeRecord;
}

/** A kind of a request mix: its requests are also its mode's, and its latency is over the whole run (a kind keeps no windows). */
export interface RequestLane extends LaneCommon {
  kind: 'request';
  ledger: Ledger;
  latency: Latency;
  record: KindRecord;
}

/** The long lane: requests long on purpose, counted apart from the modes; its latency is over the whole run. */
export interface LongLane extends LaneCommon {
  kind: 'long';
  ledger: Ledger;
  latency: Latency;
  record: LongLaneRecord;
}

/** The stream lane: streams kept open, judged by how they ended, not by requests. */
export interface StreamLane extends LaneCommon {
  kind: 'stream';
  ledger: null;
  latency: null;
  record: StreamRecord;
}

export type Lane = ModeLane | RequestLane | LongLane | StreamLane;
export type LaneKind = Lane['kind'];

const ledgerOf = ({ written, answered, failed, inFlightAtStop, failuresByCause }: Ledger): Ledger => ({
  written,
  answered,
  failed,
  inFlightAtStop,
  failuresByCause,
});

/** Every lane of a run, in the order reports list them: the modes, the mix's kinds, the long lane, the streams. */
export function lanesOf(run: Pick<RunRecord, 'modes' | 'requests' | 'longLane' | 'stream'>): Lane[] {
  const lanes: Lane[] = run.modes.map((record) => ({
    kind: 'mode',
    id: `mode:${record.mode}`,
    label: MODE_NAMES[record.mode],
    mode: record.mode,
    ledger: ledgerOf(record),
    latency: record.steady.latency,
    record,
  }));
  (run.requests ?? []).forEach((record, index) =>
    lanes.push({
      kind: 'request',
      id: `request:${index}`,
      label: `${record.name} ×${record.weight}`,
      ledger: ledgerOf(record),
      latency: record.latency,
      record,
    }),
  );
  const long = run.longLane;
  if (long)
    lanes.push({
      kind: 'long',
      id: 'long',
      label: `long requests (${long.connections} × ${long.path})`,
      ledger: ledgerOf(long),
      latency: long.latency,
      record: long,
    });
  const stream = run.stream;
  if (stream)
    lanes.push({
      kind: 'stream',
      id: 'stream',
      label: `streams (${stream.connections} × ${stream.kind}:${stream.path})`,
      ledger: null,
      latency: null,
      record: stream,
    });
  return lanes;
}

/** The lanes of one kind, typed as that kind. */
export function lanesOfKind<K extends LaneKind>(
  run: Pick<RunRecord, 'modes' | 'requests' | 'longLane' | 'stream'>,
  kind: K,
): Extract<Lane, { kind: K }>[] {
  return lanesOf(run).filter((lane): lane is Extract<Lane, { kind: K }> => lane.kind === kind);
}

/**
 * Whether a lane's requests are counted apart from every other lane's: a
 * mode's and the long lane's are; a mix kind's are its mode's too, and a
 * stream counts no requests. The run's total holds all of these (and a
 * fault's long request).
 */
export const countedApart = (lane: Lane): lane is ModeLane | LongLane => lane.kind === 'mode' || lane.kind === 'long';

/**
 * The ends a server means and says: SSE's end of the response after a whole
 * event; a WebSocket close frame saying the server is going (1001), restarting
 * (1012) or done (1000). An EOF, a reset, or a close for an error is a stream
 * the restart broke, even when the client came back.
 */
export function endedGracefully(kind: StreamKind, ending: Ending): boolean {
  if (kind === 'sse') return ending.how === 'end';
  // gRPC: OK, or UNAVAILABLE, which tells a client to call again elsewhere (what a server going away says).
  if (kind === 'grpc') return ending.how === 'status' && (ending.code === 0 || ending.code === 14);
  return ending.how === 'close' && (ending.code === 1000 || ending.code === 1001 || ending.code === 1012);
}

/** A stream lane's totals: numbered messages lost and seen twice (within streams and across their ends), and ends that were not graceful. */
export function streamFigures(stream: StreamRecord): { lost: number; duplicated: number; notGraceful: number } {
  return {
    lost: stream.lostInStream + stream.breaks.reduce((n, b) => n + b.lost, 0),
    duplicated: stream.duplicatedInStream + stream.breaks.reduce((n, b) => n + b.duplicated, 0),
    notGraceful: stream.breaks.filter((b) => !endedGracefully(stream.kind, b)).length,
  };
}
