import { usageError } from '../errors';
import { holdForwards } from '../holdForwards';
import type { CliCommand } from './command';

const USAGE = 'gitiso forward ID PORT';

export const forwardCommand: CliCommand = {
  name: 'forward',
  agentOperand: 0,
  usage: USAGE,
  async run({ operands }, { core }) {
    const [id, portText] = operands;
    // Digits only: Number() would also take 0x50 or 8e1.
    const port = /^\d+$/.test(portText ?? '') ? Number(portText) : Number.NaN;
    if (!id || !(port >= 1 && port <= 65535)) {
      throw usageError(USAGE);
    }
    const { ports } = core;
    ports.start();
    const forward = await ports.forward(id, port);
    process.stdout.write(`${id}:${port} → ${forward.url} (Ctrl-C stops)\n`);
    await holdForwards(ports, id);
    return 0;
  },
};
