// commander's own errors, said the way every other usage error of this tool
// is: one line, ending in what to do.
import { type Command, CommanderError } from 'commander';
import { SetupError } from '../errors.js';

/** A usage error from commander as a SetupError; help and version pass through (they are not errors). */
export function usageError(error: unknown, command?: Command): unknown {
  if (!(error instanceof CommanderError) || error.exitCode === 0) return error;
  if (error.code === 'commander.excessArguments' && command)
    return new SetupError(`Unexpected argument '${command.args.join(' ')}'; see --help`);
  const text = error.message.replace(/^error: /, '');
  return new SetupError(`${text.charAt(0).toUpperCase()}${text.slice(1)}; see --help`);
}

/** Parses `argv` (no program name) with `command`, without exiting or printing: for tests and for a command parsed on its own. */
export function parseWith(command: Command, argv: string[]): Command {
  command.exitOverride().configureOutput({ writeErr: () => {} });
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    throw usageError(error, command);
  }
  return command;
}
