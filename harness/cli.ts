// reuseport-lab: the command-line tool. `reuseport-lab gate` judges any
// server restarted any way; `npm run poc` stays the one-command demo of ours.
import { Command, CommanderError } from 'commander';
import { SetupError } from './errors.js';
import { gateCommand, resolveGateOptions } from './gate/options.js';
import { runGate } from './gate/run.js';

const program = new Command('reuseport-lab')
  .description('Proves under load that a restart loses no request, and fails when one does.\nThe demo of this project\'s own server is `npm run poc`; `npm run compare` measures every restart design.')
  .showHelpAfterError('(see --help)')
  .exitOverride();

const gate = gateCommand()
  .exitOverride()
  .action(async (_options, command: Command) => {
    process.exitCode = await runGate(resolveGateOptions(command));
  });
program.addCommand(gate);
program.addHelpText('after', '\nExit codes: 0 passed, 1 the gate failed, 2 usage or setup error.');

program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    if (error instanceof CommanderError) {
      // Help and version are not errors; commander has printed what it had to say.
      process.exit(error.exitCode === 0 ? 0 : 2);
    }
    if (error instanceof SetupError) {
      process.stderr.write(`reuseport-lab: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`reuseport-lab: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
