// `npm run docs`: writes docs/cli.md, the command-line reference, from the
// commands' own --help (program.ts), so the two cannot drift apart:
// cli-reference.test.ts fails when the committed file is not what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EXIT_CODES_HELP } from '../exit-codes.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { buildProgram } from '../program.js';

export const CLI_REFERENCE_FILE = join(PACKAGE_ROOT, 'docs/cli.md');

/** Help is wrapped at this width here, whatever the terminal that writes the file. */
const WIDTH = 100;

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk), getOutHelpWidth: () => WIDTH });
  command.outputHelp();
  // The exit codes close every command's help; here they are said once, at the end.
  return text.replace(`${EXIT_CODES_HELP}\n`, '').trimEnd();
}

export function cliReference(): string {
  const program = buildProgram();
  const commands = program.commands.map(
    (command) => `## ${command.name()}\n\n\`\`\`text\n${helpOf(command)}\n\`\`\`\n`,
  );
  return `<!-- Written by \`npm run docs\` from the commands' --help; edit the commands, not this file. -->

# Command-line reference

Every command of \`reuseport-lab\` (\`npx reuseport-lab\` from the installed package, \`npm run <command> --\` in a
clone), as its \`--help\` prints it.

A config file (\`gate --config FILE\`, JSON, checked against \`harness/commands/gate-config.schema.json\`) takes
every flag of \`gate\` as a key: the flag's name in camelCase without its dashes (\`--latency-budget 500\` is
\`"latencyBudget": 500\`, \`--retry-refused\` is \`"retryRefused": true\`; a repeatable flag is an array). A flag
on the command line wins over the file. \`examples/gate.complete.json\` sets every key there is.

\`\`\`text
${helpOf(program)}
\`\`\`

${commands.join('\n')}
## Exit codes

Every command ends with one of these (\`harness/exit-codes.ts\`):

\`\`\`text${EXIT_CODES_HELP.replace(/^\nExit codes:/, '')}
\`\`\`
`;
}

if (process.argv[1]?.endsWith('cli-reference.js')) {
  writeFileSync(CLI_REFERENCE_FILE, cliReference());
  console.log(`wrote ${CLI_REFERENCE_FILE}`);
}
