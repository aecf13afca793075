/** A usage or setup problem (a flag, a value, a config file): printed as one line, exit code 2, no stack trace. */
export class SetupError extends Error {
  override name = 'SetupError';
}

/**
 * The target or what runs it could not be brought up (no engine, no image,
 * not ready, not reachable): printed as one line, exit code 4. Not the
 * caller's flags (SetupError, 2) and not a verdict (1).
 */
export class TargetError extends SetupError {
  override name = 'TargetError';
}
