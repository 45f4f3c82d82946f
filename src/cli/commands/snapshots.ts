import { tabSeparated } from '../table';
import type { CliCommand } from './command';

export const snapshotsCommand: CliCommand = {
  name: 'snapshots',
  usage: 'gitiso snapshots [--prune] [--json]',
  async run({ flags }, { core }) {
    if (flags.prune) {
      const removed = await core.snapshots.prune(0);
      process.stdout.write(removed.length === 0 ? 'no unused snapshots\n' : removed.map((s) => `removed ${s.image}\n`).join(''));
      return 0;
    }
    const snapshots = await core.snapshots.list();
    if (flags.json) {
      process.stdout.write(JSON.stringify(snapshots, null, 2) + '\n');
    } else if (snapshots.length === 0) {
      process.stdout.write('no snapshots\n');
    } else {
      process.stdout.write(
        tabSeparated(snapshots.map((s) => [s.image, s.baseBranch, s.baseCommit.slice(0, 12), `${((s.sizeBytes ?? 0) / 1e6).toFixed(1)} MB`, s.repoUrl])),
      );
    }
    return 0;
  },
};
