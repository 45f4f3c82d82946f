import { formatBytes } from '../../core/limits/agentLimits';
import { limitsFrom } from '../args';
import { usageError } from '../errors';
import type { CliCommand } from './command';

const USAGE = 'gitiso limits ID [--memory M] [--cpus N] [--pids N]';

export const limitsCommand: CliCommand = {
  name: 'limits',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands, flags }, { core }) {
    const [id] = operands;
    if (!id || (flags.memory === undefined && flags.cpus === undefined && flags.pids === undefined)) {
      throw usageError(USAGE);
    }
    const limits = await core.agents.updateLimits(id, limitsFrom(flags));
    process.stdout.write(`${id}: ${formatBytes(limits.memoryBytes)}, ${limits.cpus} CPUs, ${limits.pids} processes\n`);
    return 0;
  },
};
