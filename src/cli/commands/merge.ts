import { usageError } from '../errors';
import { withInterrupt } from '../interrupt';
import type { CliCommand } from './command';

const USAGE = 'gitiso merge ID';

/** Merges the agent's branch into the current directory's current branch; conflicts are left for the user to resolve. */
export const mergeCommand: CliCommand = {
  name: 'merge',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands }, { core }) {
    const [id] = operands;
    if (!id || operands.length > 1) {
      throw usageError(USAGE);
    }
    const merged = await withInterrupt((signal) => core.workspaceGit.merge(id, process.cwd(), { signal }));
    if (merged.kind === 'conflicts') {
      process.stdout.write(`${id}: the merge has conflicts in ${merged.conflicts.length} file(s); resolve them, then git commit (or git merge --abort):\n${merged.conflicts.map((path) => `  ${path}\n`).join('')}`);
      return 1;
    }
    const said = { 'fast-forward': 'fast-forwarded to the agent\'s branch', merged: 'merged the agent\'s branch', 'up-to-date': 'already up to date' } as const;
    process.stdout.write(`${id}: ${said[merged.kind]}\n`);
    return 0;
  },
};
