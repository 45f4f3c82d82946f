import { usageError } from '../errors';
import { withInterrupt } from '../interrupt';
import type { CliCommand } from './command';

const USAGE = 'gitiso fetch ID';

/** The agent's branch into the current directory's repository as refs/remotes/gitiso/ID, from the host's pool. */
export const fetchCommand: CliCommand = {
  name: 'fetch',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands }, { core }) {
    const [id] = operands;
    if (!id || operands.length > 1) {
      throw usageError(USAGE);
    }
    const fetched = await withInterrupt((signal) => core.workspaceGit.fetchIntoWorkspace(id, process.cwd(), { signal }));
    process.stdout.write(`${id}: ${fetched.ref.replace(/^refs\/remotes\//, '')} at ${fetched.work.head.slice(0, 12)}${fetched.work.worktree === fetched.work.head ? '' : ' (the agent also has uncommitted changes: gitiso apply takes them)'}\n`);
    return 0;
  },
};
