// reuseport-lab: one program, six commands. `npm run poc` and the other npm
// scripts call it. One error handler: a usage or setup error is one line and
// exit code 2; anything else also shows its stack, so it can be found.
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench/command.js';
import { gateCommand, resolveGateOptions, runGate } from './commands/gate.js';
import { usageError } from './commands/parse.js';
import { pocCommand, resolvePocOptions, runPoc } from './commands/poc.js';
import { reportCommand } from './commands/report.js';
import { compareCommand } from './compare/command.js';
import { SetupError } from './errors.js';
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
for (const command of program.commands) command.exitOverride().configureOutput({ writeErr: () => {} });
program.addHelpText(
  'after',
  '\nExit codes: 0 passed, 1 the gate failed, 2 usage or setup error, 3 inconclusive (the load generator fell behind its schedule), 130 interrupted.',
);

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
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    if (error instanceof SetupError) {
      // A setup error may quote the target (a container's last log lines, a restart's output): no escape sequence of theirs.
      process.stderr.write(`${speaker()}: ${forTerminal(error.message)}\n`);
      process.exit(2);
    }
    process.stderr.write(`${speaker()}: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
