import { usageError } from '../errors';
import { tabSeparated } from '../table';
import type { CliCommand } from './command';

const USAGE = 'gitiso ports ID';

export const portsCommand: CliCommand = {
  name: 'ports',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands }, { core }) {
    const [id] = operands;
    if (!id) {
      throw usageError(USAGE);
    }
    const listening = await core.ports.discover(id);
    process.stdout.write(
      listening.length === 0
        ? `${id} listens on no TCP port\n`
        : tabSeparated(listening.map((p) => (p.reachable ? [String(p.port), p.address] : [String(p.port), p.address, '(loopback only: not forwardable yet)']))),
    );
    return 0;
  },
};
