import { usageError } from '../errors';
import { withInterrupt } from '../interrupt';
import type { CliCommand } from './command';

const USAGE = 'gitiso apply ID';

/** The agent's changes against its base, committed and uncommitted, as uncommitted changes in the current directory's working tree. */
export const applyCommand: CliCommand = {
  name: 'apply',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands }, { core }) {
    const [id] = operands;
    if (!id || operands.length > 1) {
      throw usageError(USAGE);
    }
    const applied = await withInterrupt((signal) => core.workspaceGit.apply(id, process.cwd(), { signal }));
    if (applied.conflicts.length > 0) {
      process.stdout.write(`${id}: applied ${applied.files} file(s); ${applied.conflicts.length} have conflicts to resolve:\n${applied.conflicts.map((path) => `  ${path}\n`).join('')}`);
      return 1;
    }
    process.stdout.write(applied.files === 0 ? `${id}: no changes to apply\n` : `${id}: applied ${applied.files} file(s) as uncommitted changes\n`);
    return 0;
  },
};
