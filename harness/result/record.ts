// The result document (result.json) declared once: the TypeBox schemas below
// are both the JSON Schema the document is validated against (and that
// `npm run schema` writes to result.schema.json for other tools) and, through
// Static, the TypeScript types of the record and the verdict. Change a field
// here and the code that writes or reads it fails to compile until it agrees.
// Bump RESULT_SCHEMA_VERSION on an incompatible change and upgrade the older
// version in upgrade.ts.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { FAULT_NAMES } from '../faults.js';
import { RESTART_EVENT_NAMES } from '../strategies/events.js';
import type { FailureCause as RecordedCause } from '../load/recorder.js';

export const RESULT_SCHEMA_VERSION = 6;

/** A string schema that is one of `values`: kept as JSON Schema's enum, typed as their union. */
function Enum<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const TimeSchema = Type.Number({
  description: 'ms since the Unix epoch, within what a JavaScript Date holds',
  minimum: 0,
  maximum: 8640000000000000,
});

export const LatencyTailSchema = Type.Union(
  [
    Type.Null(),
    Type.Object(
      {
        aboveMs: Type.Number({ description: 'every judged response at least this slow is listed', minimum: 0 }),
        responses: Type.Array(Type.Tuple([TimeSchema, Type.Number({ minimum: 0 })]), {
          description: '[when answered, latency in ms] of each such response',
        }),
        unansweredAtStop: Type.Array(Type.Number({ minimum: 0 }), {
          description: 'age in ms of each request unanswered when the load stopped',
        }),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      'what any latency budget of aboveMs or more is applied from (reuseport-lab report --latency-budget); null in a run written before schema 5, which can be judged only at its own budget',
  },
);

export const NetCountersSchema = Type.Object(
  {
    TCPMigrateReqSuccess: Type.Integer({
      description: "a closed listener's queued connection or handshake handed to another listener (tcp_migrate_req)",
    }),
    TCPMigrateReqFailure: Type.Integer({ description: 'one that could not be handed over' }),
    ListenDrops: Type.Integer({ description: 'handshakes a listener dropped' }),
    ListenOverflows: Type.Integer({ description: 'completed connections a full accept queue had no room for' }),
    OutRsts: Type.Integer({ description: 'resets sent by any socket of the namespace' }),
  },
  { additionalProperties: false },
);

export const CauseSchema = Type.Union([
  Type.Literal('connection_reset'),
  Type.Literal('connection_refused'),
  Type.Literal('broken_pipe'),
  Type.Literal('timeout'),
  Type.Literal('cut_in_flight'),
  Type.Literal('refused_stream'),
  Type.Literal('stream_reset'),
  Type.Literal('grpc_error'),
  Type.Literal('silent_loss'),
  Type.Literal('slow'),
  Type.Literal('non_2xx'),
  Type.Literal('corrupt_body'),
  Type.Literal('other_error'),
]);

/** Failed requests by cause; a cause with none is left out. */
export const FailuresByCauseSchema = Type.Partial(Type.Record(CauseSchema, Type.Integer({ minimum: 1 })), {
  additionalProperties: false,
});

/** What became of one request (the fault's long request). */
export const OutcomeSchema = Type.Union([
  Type.Object({ ok: Type.Literal(true), pid: Type.Integer(), version: Type.String(), latencyMs: Type.Number() }),
  Type.Object({
    ok: Type.Literal(false),
    cause: Type.Union([CauseSchema, Type.Literal('stopped')]),
    connectionFailed: Type.Boolean(),
    latencyMs: Type.Number(),
  }),
]);

export const LatencySchema = Type.Union([
  Type.Null(),
  Type.Object(
    {
      count: Type.Integer(),
      p50: Type.Number(),
      p99: Type.Number(),
      max: Type.Number(),
    },
    { additionalProperties: false },
  ),
]);

export const WindowSchema = Type.Object(
  {
    answered: Type.Integer({ minimum: 0 }),
    failed: Type.Integer({ minimum: 0 }),
    latency: LatencySchema,
  },
  { additionalProperties: false },
);

export const BucketSchema = Type.Object(
  {
    start: TimeSchema,
    answered: Type.Integer({ minimum: 0 }),
    pids: Type.Record(Type.String(), Type.Integer()),
    failures: FailuresByCauseSchema,
    latency: LatencySchema,
  },
  { additionalProperties: false },
);

export const CheckSchema = Type.Object(
  {
    id: Enum(
      [
        'load-on-schedule',
        'run-completed',
        'load-ran',
        'zero-failed-requests',
        'latency-budget',
        'no-stall',
        'accounting',
        'restarts-exited-0',
        'rolled-back',
        'long-request',
        'long-lane',
        'request-mix',
        'streams',
        'http2-streams-kept',
        'http2-goaway-notice',
        'old-server-ending',
        'new-pids-answered',
        'old-pid-silent-after-exit',
        'versions',
        'only-newest-at-end',
        'no-leftovers',
        'losses-by-task',
        'tasks-answered',
        'task-silent-after-end',
        'fleet-converged',
      ],
      { description: 'stable: tools match on this, not on the wording' },
    ),
    name: Type.String(),
    passed: Type.Boolean(),
    skipped: Type.Optional(
      Type.Boolean({
        description:
          'true when the check could not be made here (the runtime could not see what it needs, or the server did not say); passed is then true',
      }),
    ),
    inconclusive: Type.Optional(
      Type.Boolean({
        description:
          'true when the check found that the run cannot be judged (the load generator fell behind); passed is then false',
      }),
    ),
    detail: Type.String(),
    skipReason: Type.Optional(Type.String({ description: 'why the check was skipped (with skipped: true)' })),
  },
  { additionalProperties: false },
);

export const RestartSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 1 }),
    strategy: Type.String({ description: 'a strategy of ours, or your-command (reuseport-lab gate)' }),
    version: Type.String({ description: 'APP_VERSION given to the new server' }),
    triggeredAt: TimeSchema,
    finishedAt: TimeSchema,
    exitCode: Type.Integer(),
    oldPid: Type.Union([Type.Integer(), Type.Null()]),
    newPid: Type.Union([Type.Integer(), Type.Null()]),
    events: Type.Array(
      // Open: an event carries fields of its own (after_ms, old_pid, unit, ...).
      Type.Object({
        ts: TimeSchema,
        event: Enum(RESTART_EVENT_NAMES),
        pid: Type.Optional(Type.Integer()),
        reason: Type.Optional(Type.String()),
      }),
    ),
    messages: Type.String(),
    timedOut: Type.Union([Type.String(), Type.Null()], { description: 'set when the harness had to end the restart' }),
  },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });

export const Http2Schema = Type.Object(
  {
    protocol: Enum(['h2c', 'h2']),
    sessions: Type.Integer({ description: 'sessions (connections) the load opened', minimum: 0 }),
    streams: Type.Object(
      {
        refused: Type.Integer({
          description: 'RST_STREAM REFUSED_STREAM from the server: never processed',
          minimum: 0,
        }),
        crossed: Type.Integer({
          description: 'above the last stream id of a GOAWAY the session got: it crossed the GOAWAY, never processed',
          minimum: 0,
        }),
        reset: Type.Integer({
          description: 'reset at or below the last stream id: may have been processed; lost',
          minimum: 0,
        }),
        cut: Type.Integer({ description: 'open when its connection ended; lost', minimum: 0 }),
        resentUnsent: Type.Integer({
          description:
            'queued by the client but not written when a GOAWAY came: sent on another session, never seen by the server, counted nowhere else',
          minimum: 0,
        }),
        retried: Type.Integer({ description: 'refused or crossed, sent again (--retry-refused)', minimum: 0 }),
        answeredAfterRetry: Count,
      },
      { additionalProperties: false },
    ),
    goaways: Type.Object(
      {
        count: Count,
        notices: Type.Integer({ description: 'GOAWAYs with last stream id 2^31-1 (shutdown notices)', minimum: 0 }),
        finalsAfterNotice: Type.Integer({ description: 'sessions whose final GOAWAY followed a notice', minimum: 0 }),
        finalsWithoutNotice: Type.Integer({ description: 'sessions whose first GOAWAY was the final one', minimum: 0 }),
        closedWithoutGoaway: Type.Integer({ description: 'sessions the server closed with no GOAWAY', minimum: 0 }),
        noticeToFinalMs: Type.Union([
          Type.Null(),
          Type.Object({ min: Type.Number(), max: Type.Number() }, { additionalProperties: false }),
        ]),
        listed: Type.Array(
          Type.Object(
            {
              at: TimeSchema,
              session: Type.Integer({ minimum: 1 }),
              lastStreamId: Count,
              errorCode: Count,
            },
            { additionalProperties: false },
          ),
          { description: 'the first GOAWAYs, in order (at most 200)' },
        ),
      },
      { additionalProperties: false },
    ),
    lost: Type.Array(
      Type.Object(
        {
          at: TimeSchema,
          session: Type.Integer({ minimum: 1 }),
          stream: Type.Integer({ minimum: 1 }),
          how: Enum(['reset', 'cut']),
          code: Type.Integer({ description: 'the RST_STREAM code (0: none)', minimum: 0 }),
        },
        { additionalProperties: false },
      ),
      { description: 'the first streams lost, in order (at most 200)' },
    ),
    grpcStatuses: Type.Optional(
      Type.Record(Type.String(), Type.Integer({ minimum: 1 }), {
        description: 'gRPC calls (--grpc): how many ended with each grpc-status, by name (OK, UNAVAILABLE, ...)',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'HTTP/2 (--protocol h2c or h2): every GOAWAY the sessions got and how each stream that was not answered ended; null or absent over HTTP/1.1',
  },
);

export const ParametersSchema = Type.Object(
  {
    strategy: Type.String({ description: 'a strategy of ours, or your-command (reuseport-lab gate)' }),
    server: Type.Optional(
      Type.Object(
        {
          identity: Type.String(),
          identityGiven: Type.Boolean(),
          path: Type.String(),
          ready: Type.String(),
          restart: Type.String(),
        },
        {
          additionalProperties: false,
          description:
            'how the user described the server (reuseport-lab gate): the path loaded, which process answered, when ready, the restart command',
        },
      ),
    ),
    load: Enum(['keepalive', 'churn', 'both']),
    loadModel: Enum(['open', 'closed'], {
      description:
        'open: requests sent on an arrival schedule, latency from when each was due; closed: each connection sends its next request once the last is answered',
    }),
    loadDescription: Type.String(),
    connections: Type.Integer({ minimum: 1 }),
    rate: Type.Union([Type.Number(), Type.Null()], {
      description:
        'open model: the requests per second per mode given with --rate; null: calibrated, or the closed model',
    }),
    maxConnections: Type.Union([Type.Integer(), Type.Null()], {
      description: 'open model: the connections each mode could open at once; null in the closed model',
    }),
    restarts: Type.Integer({ minimum: 1 }),
    intervalMs: Type.Number(),
    warmupMs: Type.Number(),
    cooldownMs: Type.Number(),
    bucketMs: Type.Number(),
    requestTimeoutSeconds: Type.Number(),
    latencyBudgetMs: Type.Number(),
    stallFloor: Type.Number({ minimum: 0, maximum: 1 }),
    fault: Type.Union([Type.String(), Type.Null()]),
    longLane: Type.Optional(
      Type.Union(
        [
          Type.Null(),
          Type.Object(
            {
              path: Type.String(),
              connections: Type.Integer({ minimum: 1 }),
            },
            { additionalProperties: false },
          ),
        ],
        { description: 'the long-request lane (--long): its path and connections; null or absent: none' },
      ),
    ),
    requests: Type.Optional(
      Type.Union(
        [
          Type.Null(),
          Type.Array(
            Type.Object(
              {
                name: Type.String(),
                method: Type.String(),
                path: Type.String(),
                headers: Type.Record(Type.String(), Type.String()),
                bodyBytes: Type.Integer({ minimum: 0 }),
                weight: Type.Integer({ minimum: 1 }),
              },
              { additionalProperties: false },
            ),
          ),
        ],
        { description: 'the request mix as sent (bodies by their size); null or absent: GET on one path' },
      ),
    ),
    protocol: Type.Optional(
      Enum(['http1', 'h2c', 'h2'], {
        description:
          'what the load modes spoke: HTTP/1.1, HTTP/2 in clear text with prior knowledge (h2c), or HTTP/2 over TLS through ALPN (h2); absent: HTTP/1.1. The long and stream lanes speak HTTP/1.1',
      }),
    ),
    grpc: Type.Optional(
      Enum(['health'], {
        description:
          'gRPC through the restarts (--grpc): health: grpc.health.v1.Health/Check calls are the request mix, Watch calls the stream lane; absent: none',
      }),
    ),
    grpcMethod: Type.Optional(
      Type.String({
        description:
          "a user's own unary gRPC method sent as the load (--grpc-method), pkg.Service/Method; absent: none",
      }),
    ),
    retryRefused: Type.Optional(
      Type.Boolean({
        description:
          'HTTP/2: a refused stream (never processed) was sent again on another session (--retry-refused); absent or false: counted as failed, refused_stream',
      }),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          insecure: Type.Boolean(),
        },
        {
          additionalProperties: false,
          description:
            'the target served HTTPS (gate --url https://, --tls); insecure: its certificate was not verified (--insecure). Absent: plain HTTP',
        },
      ),
    ),
    stream: Type.Optional(
      Type.Union(
        [
          Type.Null(),
          Type.Object(
            {
              kind: Enum(['sse', 'ws', 'grpc']),
              path: Type.String(),
              connections: Type.Integer({ minimum: 1 }),
            },
            { additionalProperties: false },
          ),
        ],
        { description: 'the stream lane (--stream): its kind, path and clients; null or absent: none' },
      ),
    ),
    restartSettings: Type.Union([
      Type.Null(),
      Type.Object(
        {
          overlapMs: Type.Number(),
          readyTimeoutSeconds: Type.Number(),
          stopTimeoutSeconds: Type.Number(),
          restartTimeoutSeconds: Type.Number(),
          steer: Type.Boolean({
            description:
              'old servers steered new connections away before closing their listener (drain contract, line 2); false: DRAIN_STEER=off',
          }),
        },
        { additionalProperties: false },
      ),
    ]),
  },
  { additionalProperties: false },
);

export const ResultDocumentSchema = Type.Object(
  {
    schemaVersion: Type.Literal(RESULT_SCHEMA_VERSION),
    passed: Type.Boolean({ description: 'the verdict: every check passed' }),
    inconclusive: Type.Boolean({
      description:
        'the load generator fell behind its schedule (open model): the run proves nothing either way, and passed is false; exit code 3',
    }),
    totalRequests: Type.Integer({ description: 'answered + failed', minimum: 0 }),
    failedRequests: Type.Integer({ minimum: 0 }),
    failuresByCause: FailuresByCauseSchema,
    answered: Type.Integer({
      description:
        'complete valid responses within the latency budget (parameters.latencyBudgetMs), over every load mode',
      minimum: 0,
    }),
    failed: Type.Integer({ minimum: 0 }),
    written: Type.Integer({
      description: 'requests put on the wire; = answered + failed + inFlightAtStop',
      minimum: 0,
    }),
    inFlightAtStop: Type.Integer({
      description: 'unanswered when the load stopped, and younger than the latency budget',
      minimum: 0,
    }),
    checks: Type.Array(CheckSchema),
    interrupted: Type.Union(
      [
        Type.Null(),
        Type.Object(
          {
            reason: Type.String(),
            stack: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
      ],
      { description: 'why the run stopped early; stack only for an error nobody expected' },
    ),
    identityNames: Type.Optional(
      Type.Union([Type.Null(), Type.Record(Type.String(), Type.String())], {
        description:
          "identities that were names, not numbers (a replica's host name), by the number each was recorded under in pids and buckets; null or absent: none",
      }),
    ),
    fleet: Type.Optional(
      Type.Union(
        [
          Type.Null(),
          Type.Object(
            {
              orchestrator: Type.Literal('swarm'),
              service: Type.String(),
              replicas: Type.Union([Type.Integer(), Type.Null()]),
              tasks: Type.Array(
                Type.Object(
                  {
                    id: Type.String(),
                    slot: Type.Union([Type.Integer(), Type.Null()]),
                    container: Type.Union([Type.String(), Type.Null()], {
                      description: "the container's short ID: the host name a replica of ours sends (X-Server-Host)",
                    }),
                    image: Type.String(),
                    createdAt: TimeSchema,
                    runningAt: Type.Union([Type.Null(), TimeSchema]),
                    stoppingAt: Type.Union([Type.Null(), TimeSchema], {
                      description:
                        "first seen with desired state shutdown: the task leaves the service's DNS, its stop signal follows",
                    }),
                    signalledAt: Type.Union([Type.Null(), TimeSchema], {
                      description: "its container was sent the stop signal (the engine's kill event)",
                    }),
                    endedAt: Type.Union([Type.Null(), TimeSchema]),
                    state: Type.String(),
                    exitCode: Type.Union([Type.Integer(), Type.Null()]),
                    error: Type.Union([Type.String(), Type.Null()]),
                  },
                  { additionalProperties: false },
                ),
              ),
              updates: Type.Array(
                Type.Object(
                  {
                    restart: Type.Integer(),
                    state: Type.String(),
                    message: Type.String(),
                  },
                  { additionalProperties: false },
                ),
              ),
              error: Type.Union([Type.String(), Type.Null()]),
            },
            { additionalProperties: false },
          ),
        ],
        {
          description:
            "a fleet runtime's replicas over the run, as its orchestrator told them (gate --swarm-service); null or absent: one server was replaced",
        },
      ),
    ),
    startedAt: TimeSchema,
    endedAt: TimeSchema,
    parameters: ParametersSchema,
    calibration: Type.Union(
      [
        Type.Null(),
        Type.Object(
          {
            share: Type.Number({ maximum: 1, exclusiveMinimum: 0 }),
            measuredMs: Type.Number({ minimum: 0 }),
            capacity: Type.Object(
              {
                keepalive: Type.Optional(Type.Number({ minimum: 0 })),
                churn: Type.Optional(Type.Number({ minimum: 0 })),
              },
              { additionalProperties: false },
            ),
          },
          { additionalProperties: false },
        ),
      ],
      {
        description:
          'open model without --rate: what the target answered at full speed, each mode alone, just before the warm-up, and the share of it the whole load drove (split evenly over the modes); null otherwise',
      },
    ),
    runtime: Type.Object(
      {
        kind: Type.String({
          description:
            "docker or local: where our strategies ran; image, url or swarm: a user's target (written as docker or local before this was told apart)",
        }),
        description: Type.String(),
        facts: Type.Record(Type.String(), Type.String()),
        observes: Type.Object(
          {
            identities: Type.Union([Type.Literal(true), Type.String()]),
            versions: Type.Union([Type.Literal(true), Type.String()]),
            restartEvents: Type.Union([Type.Literal(true), Type.String()]),
            exitLines: Type.Union([Type.Literal(true), Type.String()]),
            processes: Type.Union([Type.Literal(true), Type.String()]),
            fds: Type.Union([Type.Literal(true), Type.String()]),
            kernelCounters: Type.Union([Type.Literal(true), Type.String()]),
          },
          {
            additionalProperties: false,
            description:
              'what the runtime could see of its servers: true, or why not (a check that needs it is skipped with that reason)',
          },
        ),
      },
      { additionalProperties: false },
    ),
    target: Type.Object(
      {
        host: Type.String(),
        port: Type.Integer(),
        pid: Type.Integer({ description: 'the first server; 0 for a server that is not ours (reuseport-lab gate)' }),
      },
      { additionalProperties: false },
    ),
    pids: Type.Array(
      Type.Object(
        {
          pid: Type.Integer(),
          first: TimeSchema,
          last: TimeSchema,
          count: Type.Integer({ minimum: 1 }),
          versions: Type.Array(Type.String(), { description: 'every X-Server-Version this PID answered with' }),
        },
        { additionalProperties: false },
      ),
    ),
    modes: Type.Array(
      Type.Object(
        {
          mode: Enum(['keepalive', 'churn']),
          written: Type.Integer({ minimum: 0 }),
          answered: Type.Integer({ minimum: 0 }),
          failed: Type.Integer({ minimum: 0 }),
          inFlightAtStop: Type.Integer({ minimum: 0 }),
          failuresByCause: FailuresByCauseSchema,
          steady: WindowSchema,
          switchovers: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  index: Type.Integer({ minimum: 1 }),
                  stats: WindowSchema,
                },
                { additionalProperties: false },
              ),
              {
                description:
                  "each restart's switchover window (see the top-level switchovers) as this mode alone saw it; absent in results written before it was added",
              },
            ),
          ),
          buckets: Type.Array(BucketSchema),
          latencyTail: LatencyTailSchema,
          schedule: Type.Union(
            [
              Type.Null(),
              Type.Object(
                {
                  ratePerSecond: Type.Number({ exclusiveMinimum: 0 }),
                  maxConnections: Type.Integer({ minimum: 1 }),
                  due: Type.Integer({ description: 'requests that fell due', minimum: 0 }),
                  late: Type.Integer({
                    description: 'handed out by the harness more than 100 ms after they fell due',
                    minimum: 0,
                  }),
                  waited: Type.Integer({ description: 'held back because maxConnections were busy', minimum: 0 }),
                  waitedLate: Type.Integer({
                    description: 'of those, sent (or given up on) more than 100 ms after they were due',
                    minimum: 0,
                  }),
                  lagMaxMs: Type.Integer({ minimum: 0 }),
                  connectionsMax: Type.Integer({ minimum: 0 }),
                  buckets: Type.Array(
                    Type.Object(
                      {
                        due: Type.Integer({ minimum: 0 }),
                        answered: Type.Integer({ minimum: 0 }),
                        late: Type.Integer({ minimum: 0 }),
                        waited: Type.Integer({ minimum: 0 }),
                        waitedLate: Type.Integer({ minimum: 0 }),
                        lagMaxMs: Type.Integer({ minimum: 0 }),
                      },
                      { additionalProperties: false },
                    ),
                  ),
                },
                { additionalProperties: false },
              ),
            ],
            {
              description:
                'open model: what fell due and whether it went out on time, per time bucket by due time (aligned with buckets); null in the closed model',
            },
          ),
          http2: Type.Optional(Type.Union([Type.Null(), Http2Schema])),
        },
        { additionalProperties: false },
      ),
      { description: 'each load mode on its own: reused keep-alive connections, and a new connection per request' },
    ),
    requests: Type.Optional(
      Type.Union(
        [
          Type.Null(),
          Type.Array(
            Type.Object(
              {
                name: Type.String(),
                method: Type.String(),
                path: Type.String(),
                weight: Type.Integer({ minimum: 1 }),
                written: Type.Integer({ minimum: 0 }),
                answered: Type.Integer({ minimum: 0 }),
                failed: Type.Integer({ minimum: 0 }),
                inFlightAtStop: Type.Integer({ minimum: 0 }),
                failuresByCause: FailuresByCauseSchema,
                latency: LatencySchema,
                latencyTail: LatencyTailSchema,
              },
              { additionalProperties: false },
            ),
          ),
        ],
        {
          description:
            "with a request mix (--request, requests): each kind's own accounting, in the mix's order (its requests are counted in the totals and the modes too); null or absent: GET on one path",
        },
      ),
    ),
    longLane: Type.Optional(
      Type.Union(
        [
          Type.Null(),
          Type.Object(
            {
              path: Type.String(),
              connections: Type.Integer({ minimum: 1 }),
              written: Type.Integer({ minimum: 0 }),
              answered: Type.Integer({ minimum: 0 }),
              failed: Type.Integer({ minimum: 0 }),
              inFlightAtStop: Type.Integer({ minimum: 0 }),
              failuresByCause: FailuresByCauseSchema,
              latency: LatencySchema,
              buckets: Type.Array(BucketSchema),
            },
            { additionalProperties: false },
          ),
        ],
        {
          description:
            "the long-request lane's own accounting (its requests are counted in the totals too, never against the latency budget); null or absent: no lane",
        },
      ),
    ),
    stream: Type.Optional(
      Type.Union(
        [
          Type.Null(),
          Type.Object(
            {
              kind: Enum(['sse', 'ws', 'grpc']),
              path: Type.String(),
              connections: Type.Integer({ minimum: 1 }),
              events: Type.Integer({ description: 'messages received: SSE events, WebSocket messages', minimum: 0 }),
              unnumbered: Type.Integer({
                description: 'events whose id is no whole number: loss not judged for them',
                minimum: 0,
              }),
              lostInStream: Type.Integer({ minimum: 0 }),
              duplicatedInStream: Type.Integer({ minimum: 0 }),
              breaks: Type.Array(
                Type.Object(
                  {
                    at: TimeSchema,
                    how: Enum(['end', 'close', 'status', 'cut', 'reset', 'refused', 'error']),
                    code: Type.Optional(Type.Integer({ description: 'the WebSocket close code, when how is close' })),
                    backAfterMs: Type.Union([Type.Number(), Type.Null()]),
                    lost: Type.Integer({ minimum: 0 }),
                    duplicated: Type.Integer({ minimum: 0 }),
                  },
                  { additionalProperties: false },
                ),
              ),
            },
            { additionalProperties: false },
          ),
        ],
        {
          description:
            'the stream lane: events received, and each time a stream ended (how, when it was back, ids lost or seen twice across it); null or absent: no lane',
        },
      ),
    ),
    steady: WindowSchema,
    switchovers: Type.Array(
      Type.Object(
        {
          index: Type.Integer({ minimum: 1 }),
          from: TimeSchema,
          to: TimeSchema,
          stats: WindowSchema,
        },
        { additionalProperties: false },
      ),
    ),
    restarts: Type.Array(RestartSchema),
    fault: Type.Union([
      Type.Null(),
      Type.Object(
        {
          name: Enum(FAULT_NAMES),
          summary: Type.String(),
          restartIndex: Type.Integer(),
          slowRequest: Type.Optional(
            Type.Object(
              {
                path: Type.String(),
                outcome: OutcomeSchema,
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ]),
    servers: Type.Union(
      [
        Type.Null(),
        Type.Array(
          Type.Object(
            {
              pid: Type.Integer(),
              exitCode: Type.Union([Type.Integer(), Type.Null()]),
              drainDeadline: Type.Union([
                Type.Null(),
                Type.Object(
                  {
                    cutConnections: Type.Integer(),
                    cutRequests: Type.Integer(),
                  },
                  { additionalProperties: false },
                ),
              ]),
              listenerClose: Type.Union(
                [
                  Type.Null(),
                  Type.Object(
                    {
                      steered: Type.Boolean(),
                      handedTo: Type.Union([Type.Integer(), Type.Null()], {
                        description: 'the PID it handed its listening socket to (handoff): nothing was closed',
                      }),
                      reason: Type.Union([Type.String(), Type.Null()]),
                      acceptedWhileDraining: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
                        description:
                          'connections accepted after the drain began: with a steer, what was already routed to it',
                      }),
                    },
                    { additionalProperties: false },
                  ),
                ],
                {
                  description:
                    'how its listener closed (drain contract, line 2): steered to another listener first, or why not (reason); null when it never closed it (still serving, or killed)',
                },
              ),
            },
            { additionalProperties: false },
          ),
        ),
      ],
      {
        description:
          'how each server ended, from its own log lines; null when the log could not be read (see serversError)',
      },
    ),
    serversError: Type.Union([Type.String(), Type.Null()]),
    netCounters: Type.Object(
      {
        source: Type.Union([Type.String(), Type.Null()], {
          description: 'where they were read; null when they could not be',
        }),
        error: Type.Union([Type.String(), Type.Null()], {
          description: 'why they could not be read, or stopped being readable',
        }),
        warmup: Type.Union([Type.Null(), NetCountersSchema]),
        restarts: Type.Array(
          Type.Object(
            {
              index: Type.Integer({ minimum: 1 }),
              delta: NetCountersSchema,
            },
            { additionalProperties: false },
          ),
        ),
      },
      {
        additionalProperties: false,
        description:
          "the kernel's TCP counters of the servers' network namespace (TcpExt and Tcp in /proc/<pid>/net), as deltas: over the warm-up, and from just before each restart to just before the next one (or the end of the load)",
      },
    ),
    harness: Type.Array(
      Type.Object(
        {
          start: TimeSchema,
          loopDelayMaxMs: Type.Number({ minimum: 0 }),
          harnessCpu: Type.Number({ minimum: 0, maximum: 1 }),
          machineBusy: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
          steal: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
        },
        { additionalProperties: false },
      ),
      {
        description:
          "the harness's own health per bucket: its longest event-loop delay and its CPU (share of one core), and the machine's busy and stolen CPU share from /proc/stat (null without it). A blocked harness times its own delay into the responses it reads.",
      },
    ),
    leftovers: Type.Union(
      [
        Type.Null(),
        Type.Object(
          {
            serverProcesses: Type.Array(
              Type.Object(
                {
                  pid: Type.Integer(),
                  state: Type.String(),
                },
                { additionalProperties: false },
              ),
            ),
            zombies: Type.Integer({ minimum: 0 }),
            firstServerFds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
              description: "null where fds cannot be seen (a user's image, probed from the host)",
            }),
            lastServerFds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
            processesAtStart: Type.Optional(
              Type.Integer({ description: "a user's image: processes in the container once it was ready", minimum: 0 }),
            ),
          },
          { additionalProperties: false },
        ),
      ],
      {
        description:
          "Docker only: what /proc in the container (or docker top, for a user's image) showed after the run",
      },
    ),
    leftoversError: Type.Union([Type.String(), Type.Null()]),
    bucketMs: Type.Integer({ minimum: 1 }),
    buckets: Type.Array(BucketSchema),
    latencyTail: LatencyTailSchema,
  },
  {
    additionalProperties: false,
    description: 'One run of the zero-downtime gate. Times are ms since the Unix epoch; durations are ms.',
    title: `reuseport-lab result.json, schema version ${RESULT_SCHEMA_VERSION}`,
    $id: 'https://reuseport-lab.invalid/result.schema.json',
    $schema: 'http://json-schema.org/draft-07/schema#',
  },
);

/** result.json: the record with its verdict. */
export type ResultDocument = Static<typeof ResultDocumentSchema>;
/** One check's judgement of a run. */
export type Check = Static<typeof CheckSchema>;
/** Stable: tools match on it, not on a check's wording. */
export type CheckId = Check['id'];

/** What the checks made of a run. */
export interface Verdict {
  /** Every check passed (never with an inconclusive run). */
  passed: boolean;
  /** A check found the run cannot be judged: neither passed nor the server's failure. */
  inconclusive: boolean;
  totalRequests: number;
  failedRequests: number;
  checks: Check[];
}

/** What a run measured: the document without its verdict. A saved record can be judged again. */
export type RunRecord = Omit<ResultDocument, keyof Verdict>;

/** The run's parameters, as the record keeps them. */
export type RunParameters = Static<typeof ParametersSchema>;

/** Why a request failed, as the document spells it: the recorder's causes, one for one. */
export type FailureCause = Static<typeof CauseSchema>;
// Fails to compile when the recorder's causes and the document's part ways.
type _SameCauses = [RecordedCause] extends [FailureCause]
  ? [FailureCause] extends [RecordedCause]
    ? true
    : never
  : never;
const _causesAgree: _SameCauses = true;

/** Holds for any schema: its JSON is what `npm run schema` writes. */
export const schemaJson = (schema: TSchema): string => `${JSON.stringify(schema, null, 2)}\n`;
