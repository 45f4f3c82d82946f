import { messageOf, usageError } from '../errors';
import type { CliCommand } from './command';

const USAGE = 'gitiso rm ID…';

export const rmCommand: CliCommand = {
  name: 'rm',
  aliases: ['remove'],
  agentOperand: 0,
  usage: USAGE,
  async run({ operands }, { core }) {
    if (operands.length === 0) {
      throw usageError(USAGE);
    }
    // Remove each one; a failure on one does not stop the others.
    const results = await Promise.allSettled(operands.map((id) => core.agents.remove(id)));
    let failed = 0;
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        failed++;
        process.stderr.write(`gitiso: ${messageOf(result.reason)}\n`);
      } else {
        process.stdout.write(`removed ${operands[index]}\n`);
      }
    });
    return failed > 0 ? 1 : 0;
  },
};
