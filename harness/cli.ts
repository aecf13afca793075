// reuseport-lab: one program, six commands. `npm run poc` and the other npm
// scripts call it. One error handler: a usage error is one line and exit
// code 2, a target that could not be run one line and 4; anything else is a
// bug of ours, shown with its stack (exit 5) so it can be found. The codes
// are exit-codes.ts's, listed at the end of every command's --help.
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench/command.js';
import { gateCommand, resolveGateOptions, runGate } from './commands/gate.js';
import { usageError } from './commands/parse.js';
import { pocCommand, resolvePocOptions, runPoc } from './commands/poc.js';
import { reportCommand } from './commands/report.js';
import { compareCommand } from './compare/command.js';
import { SetupError, TargetError } from './errors.js';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { galleryCommand } from './gallery/command.js';
import { VERSION } from './package-root.js';
import { forTerminal } from './view/safe-text.js';

const program = new Command('reuseport-lab')
  .description('Proves under load that a restart loses no request, and fails when one does.')
  .version(VERSION)
  .showHelpAfterError('(see --help)')
  .configureOutput({ writeErr: () => {} })
  .exitOverride();

program.addCommand(
  pocCommand().action(async (_options, command: Command) => {
    process.exitCode = await runPoc(resolvePocOptions(command), process.argv.slice(3));
  }),
);
program.addCommand(
  gateCommand().action(async (_options, command: Command) => {
    process.exitCode = await runGate(resolveGateOptions(command));
  }),
);
for (const command of [compareCommand(), galleryCommand(), benchCommand(), reportCommand()])
  program.addCommand(command);
for (const command of program.commands)
  command
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .addHelpText('after', EXIT_CODES_HELP);
program.addHelpText('after', EXIT_CODES_HELP);

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
