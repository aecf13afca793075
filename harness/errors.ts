/** A setup or usage problem: printed as one line, exit code 2, no stack trace. */
export class SetupError extends Error {
  override name = 'SetupError';
}
