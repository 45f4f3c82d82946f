import { messageOf, usageError } from '../errors';
import type { CliCommand } from './command';

const USAGE = 'gitiso sync ID…';

export const syncCommand: CliCommand = {
  name: 'sync',
  usage: USAGE,
  async run({ operands }, { core }) {
    if (operands.length === 0) {
      throw usageError(USAGE);
    }
    let failed = 0;
    for (const id of operands) {
      try {
        const synced = await core.agents.sync(id);
        process.stdout.write(
          synced.from === synced.to
            ? `${id}: origin/${synced.branch} is up to date\n`
            : `${id}: origin/${synced.branch} ${synced.from.slice(0, 12) || '(none)'} → ${synced.to.slice(0, 12)}\n`,
        );
      } catch (error) {
        failed++;
        process.stderr.write(`gitiso: ${messageOf(error)}\n`);
      }
    }
    return failed > 0 ? 1 : 0;
  },
};
