// reuseport-lab: one program, six commands. `npm run poc` and the other npm
// scripts call it. One error handler: a usage error is one line and exit
// code 2, a target that could not be run one line and 4; anything else is a
// bug of ours, shown with its stack (exit 5) so it can be found. The codes
// are exit-codes.ts's, listed at the end of every command's --help.
import chalk from 'chalk';
import { CommanderError } from 'commander';
import { usageError } from './commands/parse.js';
import { SetupError, TargetError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { buildProgram } from './program.js';
import { forTerminal } from './view/safe-text.js';

// NO_COLOR (no-color.org) and --no-color: plain text even on a terminal (chalk alone honours neither here).
if ((process.env.NO_COLOR ?? '') !== '' || process.argv.includes('--no-color')) chalk.level = 0;
const program = buildProgram();

/** poc and gate speak as the tool; the commands that run them name themselves, so their children's words stay apart. */
function speaker(): string {
  const name = process.argv[2];
  return name && ['compare', 'gallery', 'bench', 'report'].includes(name) ? `reuseport-lab ${name}` : 'reuseport-lab';
}

program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? 0),
  (caught: unknown) => {
    const active = program.commands.find((c) => c.name() === process.argv[2]);
    const error = usageError(caught, active);
    // Help and version are not errors; commander has printed them.
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? EXIT.passed : EXIT.usage);
    if (error instanceof SetupError) {
      // A setup error may quote the target (a container's last log lines, a restart's output): no escape sequence of theirs.
      process.stderr.write(`${speaker()}: ${forTerminal(error.message)}\n`);
      process.exit(error instanceof TargetError ? EXIT.target : EXIT.usage);
    }
    process.stderr.write(
      `${speaker()}: internal error (a bug in reuseport-lab; please report it with this stack): ${forTerminal((error as Error).stack ?? String(error))}\n`,
    );
    process.exit(EXIT.internal);
  },
);
