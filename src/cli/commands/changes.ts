import type { ChangedFile } from '../../core/roundTrip/roundTripTypes';
import { usageError } from '../errors';
import { withInterrupt } from '../interrupt';
import { alignedTable } from '../table';
import type { CliCommand } from './command';

const USAGE = 'gitiso changes ID [--json]';

const STATUS_LETTER: Readonly<Record<ChangedFile['status'], string>> = { added: 'A', modified: 'M', deleted: 'D', renamed: 'R', copied: 'C', typechange: 'T' };

/** The files an agent changed against its base, committed and uncommitted, read from the host's pool. */
export const changesCommand: CliCommand = {
  name: 'changes',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands, flags }, { core }) {
    const [id] = operands;
    if (!id || operands.length > 1) {
      throw usageError(USAGE);
    }
    const work = await withInterrupt((signal) => core.roundTrip.bringHome(id, { signal }));
    const files = await core.roundTrip.changes(work);
    if (flags.json) {
      process.stdout.write(JSON.stringify({ base: work.base, head: work.head, worktree: work.worktree, files }, null, 2) + '\n');
      return 0;
    }
    if (files.length === 0) {
      process.stderr.write(`${id}: no changes against ${work.base.slice(0, 12)}\n`);
      return 0;
    }
    process.stdout.write(alignedTable(files.map(changeRow)));
    return 0;
  },
};

/** A row: status letter, +added -removed (or "binary"), the path (old → new for a rename), with control characters shown escaped. */
export function changeRow(file: ChangedFile): string[] {
  const counts = file.added === undefined ? 'binary' : `+${file.added} -${file.removed ?? 0}`;
  const path = file.oldPath !== undefined ? `${printable(file.oldPath)} → ${printable(file.path)}` : printable(file.path);
  return [STATUS_LETTER[file.status], counts, path];
}

function printable(path: string): string {
  // eslint-disable-next-line no-control-regex
  return path.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
