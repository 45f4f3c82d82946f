import { usageError } from '../errors';
import { withInterrupt } from '../interrupt';
import type { CliCommand } from './command';

const USAGE = 'gitiso push ID [--to BRANCH] [--force-with-lease]';

/** Pushes the agent's branch from the host's pool with the host's git and credentials (the agent never pushes). */
export const pushCommand: CliCommand = {
  name: 'push',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands, flags }, { core }) {
    const [id] = operands;
    if (!id || operands.length > 1) {
      throw usageError(USAGE);
    }
    const outcome = await withInterrupt((signal) =>
      core.roundTrip.push(id, {
        to: flags.to,
        forceWithLease: flags['force-with-lease'],
        signal,
        onProgress: (line) => process.stderr.write(`${line}\n`),
      }),
    );
    process.stdout.write(`${id}: ${outcome.sentence}\n`);
    return outcome.kind === 'rejected' ? 1 : 0;
  },
};
