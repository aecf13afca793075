// Every default of every command, in one place: `reuseport-lab poc --help`
// and `gate --help` print these, and nothing else writes a default down.

/** The run: how much load, how many restarts, how often, measured how finely. */
export const RUN_DEFAULTS = {
  load: 'both',
  /** Requests on an arrival schedule, latency from when each was due (docs/how-it-works.md, "The open model"). */
  loadModel: 'open',
  /**
   * Open model without --rate: the share of the target's measured capacity
   * (each mode at full speed, alone) that the whole load drives, split
   * evenly over the modes. Chosen from measurements here: docs/how-it-works.md, "The open
   * model".
   */
  loadShare: 0.35,
  /** Open model: connections each mode may open at once. */
  maxConnections: 256,
  /** Closed model: connections (or loops) per mode; the calibration's too. */
  connections: 50,
  restarts: 3,
  intervalSeconds: 2,
  warmupSeconds: 2,
  cooldownSeconds: 2,
  bucketMs: 250,
  /** A request unanswered this long is given up on (cause `timeout`). */
  requestTimeoutSeconds: 10,
  /** Connections of the long-request lane, when --long names its path. */
  longConnections: 2,
  /** Clients of the stream lane, when --stream names one. */
  streamConnections: 2,
} as const;

/** The verdict's budgets. Chosen from measurements on a 2-core machine: see docs/how-it-works.md, "Latency and stalls". */
export const BUDGET_DEFAULTS = {
  latencyBudgetMs: 1000,
  stallFloor: 0.05,
} as const;

/** Which of our strategies runs, and where. */
export const POC_DEFAULTS = {
  runtime: 'auto',
  strategy: 'reuseport',
} as const;

/** How our own restart scripts run (restart.sh, the systemd units). */
export const RESTART_DEFAULTS = {
  overlapMs: 500,
  readyTimeoutSeconds: 10,
  stopTimeoutSeconds: 30,
  steer: 'on',
} as const;

/** How the gate waits for a server that is not ours. */
export const GATE_DEFAULTS = {
  /** A user's image may start slowly. */
  readyTimeoutSeconds: 30,
  restartTimeoutSeconds: 120,
  tcpMigrateReq: '1',
} as const;

/** Our images. */
export const IMAGE_DEFAULTS = {
  image: 'reuseport-lab:local',
  nodeVersion: '24',
} as const;

/** Where each command writes its report. */
export const REPORT_DIRS = {
  poc: 'reports',
  gate: 'reports/gate',
  compare: 'reports/compare',
  gallery: 'reports/gallery',
  bench: 'reports/bench',
} as const;

/** The benchmarks' rounds and lengths. */
export const BENCH_DEFAULTS = {
  rounds: 5,
  seconds: 4,
  soakRestarts: 500,
} as const;
