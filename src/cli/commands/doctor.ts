import type { Leftover } from '../../core/doctor/leftovers';
import { alignedTable } from '../table';
import type { CliCommand } from './command';

/** `gitiso doctor [--fix]`: lists what crashes left; --fix removes it (exit 1 when something could not be removed). */
export const doctorCommand: CliCommand = {
  name: 'doctor',
  usage: 'gitiso doctor [--fix] [--repo URL] [--json]',
  async run({ flags }, { core }) {
    const found = await core.doctor.find({ repoUrl: flags.repo });
    if (!flags.fix) {
      process.stdout.write(flags.json ? JSON.stringify(found, null, 2) + '\n' : table(found));
      return 0;
    }
    const { removed, failed } = await core.doctor.fix(found);
    if (flags.json) {
      process.stdout.write(JSON.stringify({ removed, failed }, null, 2) + '\n');
    } else {
      process.stdout.write(removed.length === 0 && failed.length === 0 ? 'nothing left over\n' : removed.map((l) => `removed ${l.kind} ${l.name}\n`).join(''));
      for (const { leftover, error } of failed) {
        process.stderr.write(`gitiso: could not remove ${leftover.kind} ${leftover.name}: ${error}\n`);
      }
    }
    return failed.length > 0 ? 1 : 0;
  },
};

function table(found: readonly Leftover[]): string {
  if (found.length === 0) {
    return 'nothing left over\n';
  }
  return alignedTable([['KIND', 'WHAT', 'WHY'], ...found.map((l) => [l.kind, l.name, l.why])]) + 'remove them with: gitiso doctor --fix\n';
}
