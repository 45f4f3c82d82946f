import { setTimeout as delay } from 'node:timers/promises';
import { isRunning } from '../../core/agent';
import { formatBytes } from '../../core/limits/agentLimits';
import { StatsSampler, type AgentStats } from '../../core/stats/statsSampler';
import { withInterrupt } from '../interrupt';
import { alignedTable } from '../table';
import type { CliCommand } from './command';

export const statsCommand: CliCommand = {
  name: 'stats',
  usage: 'gitiso stats [--json] [--watch]',
  async run({ flags }, { core, log }) {
    const runningAgents = async () => (await core.agents.list()).filter(isRunning);
    const sampler = new StatsSampler({ exec: core.exec, engine: core.engine, runningAgents, log }, { diskIntervalMs: 60_000 });
    try {
      // With --watch, Ctrl-C ends the loop after the sample under way is printed.
      await withInterrupt(async (signal) => {
        // CPU is a rate: a first reading, then one a second later.
        await sampler.sample();
        do {
          await delay(flags.watch ? 2_000 : 1_000);
          const current = [...(await sampler.sample()).values()].sort((a, b) => a.agentId.localeCompare(b.agentId));
          if (flags.json) {
            process.stdout.write(JSON.stringify(current) + '\n');
          } else {
            process.stdout.write((flags.watch && process.stdout.isTTY ? '\x1b[H\x1b[2J' : '') + statsTable(current));
          }
        } while (flags.watch && !signal.aborted);
      });
      return 0;
    } finally {
      sampler.dispose();
    }
  },
};

function statsTable(rows: readonly AgentStats[]): string {
  if (rows.length === 0) {
    return 'no running agents\n';
  }
  return alignedTable([
    ['ID', 'CPU', 'MEMORY / LIMIT', 'PIDS', 'NET RX / TX', 'DISK'],
    ...rows.map((s) => [
      s.agentId,
      `${s.cpuPercent.toFixed(1)}%`,
      `${formatBytes(s.memoryBytes)} / ${s.memoryLimitBytes ? formatBytes(s.memoryLimitBytes) : 'none'}${s.oomKills ? ` (${s.oomKills} killed: out of memory)` : ''}`,
      String(s.pids),
      `${formatBytes(s.netRxBytes)} / ${formatBytes(s.netTxBytes)}`,
      s.diskBytes === undefined ? '' : formatBytes(s.diskBytes),
    ]),
  ]);
}
