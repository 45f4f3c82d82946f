import { usageError } from '../errors';
import { withInterrupt } from '../interrupt';
import type { CliCommand } from './command';

const USAGE = 'gitiso checkout ID';

/** A local branch gitiso/ID at the agent's tip, checked out in the current directory's repository. */
export const checkoutCommand: CliCommand = {
  name: 'checkout',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands }, { core }) {
    const [id] = operands;
    if (!id || operands.length > 1) {
      throw usageError(USAGE);
    }
    const checkedOut = await withInterrupt((signal) => core.workspaceGit.checkOut(id, process.cwd(), { signal }));
    process.stdout.write(`${id}: on ${checkedOut.branch} at ${checkedOut.commit.slice(0, 12)}\n`);
    return 0;
  },
};
