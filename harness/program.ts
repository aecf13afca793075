// The program and its commands, without parsing: cli.ts runs it, and the
// CLI reference (docs/cli.md) is written from the same help texts.
import { Command } from 'commander';
import { benchCommand } from './bench/command.js';
import { gateCommand, resolveGateOptions, runGate } from './commands/gate.js';
import { pocCommand, resolvePocOptions, runPoc } from './commands/poc.js';
import { reportCommand } from './commands/report.js';
import { compareCommand } from './compare/command.js';
import { EXIT_CODES_HELP } from './exit-codes.js';
import { galleryCommand } from './gallery/command.js';
import { VERSION } from './package-root.js';

const NO_COLOR_HELP = 'plain text, no colours (also: NO_COLOR=1 in the environment)';

export function buildProgram(): Command {
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
      .option('--no-color', NO_COLOR_HELP)
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .addHelpText('after', `${EXIT_CODES_HELP}\n`);
  program.option('--no-color', NO_COLOR_HELP).addHelpText('after', `${EXIT_CODES_HELP}\n`);
  return program;
}
