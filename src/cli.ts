// The `gitiso` command (bundled to dist/cli.js): parses the command line,
// wires the core once and runs the command that src/cli/commands/ names.
import { parseCommandLine } from './cli/args';
import { findCommand } from './cli/commands';
import { createContext } from './cli/context';
import { reportFailure, UsageError } from './cli/errors';
import { helpText } from './cli/help';
import { GITISO_VERSION } from './core/version';

async function main(argv: readonly string[]): Promise<number> {
  const { command, operands, passThrough, flags } = parseCommandLine(argv);
  if (flags.version) {
    process.stdout.write(`${GITISO_VERSION}\n`);
    return 0;
  }
  if (flags.help || !command || command === 'help') {
    process.stdout.write(helpText());
    // A bare `gitiso` is a usage error that happens to print the help.
    return command || flags.help ? 0 : 2;
  }
  // Wired before the command is looked up, so a bad global flag (--strategy, --memory) is what gets reported.
  const context = createContext(flags);
  try {
    const found = findCommand(command);
    if (!found) {
      throw new UsageError(`unknown command '${command}': run 'gitiso --help'`);
    }
    const agentId = found.agentOperand === undefined ? undefined : operands[found.agentOperand];
    return await found.run({ operands, passThrough, flags }, agentId ? await context.onEngineOf(agentId) : context);
  } finally {
    // An ssh:// engine's connection is a process of its own: it ends with the command.
    context.dispose();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportFailure(error);
  },
);
