import type { CreateOutcome } from '../../core/create/createRequest';
import { isCancellation } from '../../core/errors';
import { countFrom } from '../args';
import { messageOf, usageError } from '../errors';
import { withInterrupt } from '../interrupt';
import { progressPrinter } from '../progressPrinter';
import { tabSeparated } from '../table';
import type { CliCommand } from './command';

const USAGE = 'gitiso create ID… --repo URL [--base BRANCH] [--image IMAGE] [--trust-setup], or --count N [--prefix P]';

export const createCommand: CliCommand = {
  name: 'create',
  usage: USAGE,
  async run({ operands, flags }, { core }) {
    // Checked before anything is made of it: --count 1e9 must not build a billion ids.
    const count = countFrom(flags.count);
    const ids = count !== undefined ? Array.from({ length: count }, (_, n) => `${flags.prefix ?? 'agent'}-${n + 1}`) : operands;
    const repoUrl = flags.repo;
    if (ids.length === 0 || !repoUrl) {
      throw usageError(USAGE);
    }
    const several = ids.length > 1;
    // Ctrl-C cancels the creations; what they made is removed.
    return withInterrupt(async (signal) => {
      const progress = progressPrinter(several);
      try {
        const outcomes = await core.creator.createMany(
          ids.map((id) => ({ id, repoUrl, baseBranch: flags.base, image: flags.image, copyFrom: flags['copy-from'] ?? process.cwd() })),
          { signal, onProgress: progress.update, force: flags.force },
        );
        progress.done();
        const status = report(outcomes, several);
        if (core.snapshots.buildsRunning > 0) {
          // The first agent of a repository did not wait for its snapshot: this process builds it now, for the next ones.
          process.stderr.write('gitiso: building the snapshot that the next agents of this repository start from (Ctrl-C skips it; the next create builds it then)\n');
        }
        return status;
      } finally {
        progress.done();
      }
    });
  },
};

/** One line per agent made (on stdout) or failed (on stderr); 1 when any failed. */
function report(outcomes: readonly CreateOutcome[], several: boolean): number {
  let failed = 0;
  for (const outcome of outcomes) {
    if ('agent' in outcome) {
      const { agent } = outcome;
      process.stdout.write(tabSeparated([[agent.id, agent.sessionBranch, agent.baseCommit?.slice(0, 12) ?? '']]));
    } else {
      failed++;
      if (isCancellation(outcome.error)) {
        throw outcome.error;
      }
      process.stderr.write(`gitiso: ${several ? `${outcome.id}: ` : ''}${messageOf(outcome.error)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}
