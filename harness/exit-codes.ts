// The exit codes of every command, in one place: what a CI step branches on.
// Distinct for each thing a caller would do differently (k6 does the same):
// a failed gate blocks a deploy, a usage error is the pipeline's own
// mistake, an inconclusive run is run again, a target that could not be run
// is the environment's, an internal error is ours to fix.
export const EXIT = {
  passed: 0,
  /** The gate failed: a restart lost or delayed requests (or, for compare and the gallery, a row failed). */
  failed: 1,
  /** A flag, a value or a config file is wrong: nothing ran. */
  usage: 2,
  /** The load generator fell behind its schedule: nothing was judged either way. */
  inconclusive: 3,
  /** The target could not be run: no engine, no image, not ready, a restart command that is not there. */
  target: 4,
  /** A bug in reuseport-lab: the stack is printed. */
  internal: 5,
  /** Ctrl-C (SIGINT) or SIGTERM: the load stopped, and what ran is still reported. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table every command's --help ends with. */
export const EXIT_CODES_HELP = `
Exit codes:
  0    passed
  1    failed: a restart lost or delayed requests (compare, gallery: a row failed; --no-fail: 0)
  2    usage error: a flag, a value or a config file (nothing ran)
  3    inconclusive: the load generator fell behind its schedule (run it again, or lower --rate)
  4    the target could not be run: no Docker engine, no image, never ready, a restart command not found
  5    internal error in reuseport-lab (a bug: the stack is printed)
  130  interrupted (Ctrl-C): the load stopped, the report of what ran is written`;

/** A restart command's exit status that says it never ran: not found (127) or not executable (126). */
export const restartNeverRan = (code: number | null) => code === 126 || code === 127;
