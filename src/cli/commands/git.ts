import { usageError } from '../errors';
import type { CliCommand } from './command';

const USAGE = 'gitiso git ID -- ARGS…';

export const gitCommand: CliCommand = {
  name: 'git',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands, passThrough }, { core }) {
    const [id, ...inline] = operands;
    const gitArgs = [...inline, ...passThrough];
    if (!id || gitArgs.length === 0) {
      throw usageError(USAGE);
    }
    const result = await core.exec.git(id, gitArgs, {
      onStdout: (chunk) => process.stdout.write(chunk),
      onStderr: (chunk) => process.stderr.write(chunk),
    });
    // git's own exit code, so scripts can test it.
    return result.exitCode;
  },
};
