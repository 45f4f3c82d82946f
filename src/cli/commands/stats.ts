import { setTimeout as delay } from 'node:timers/promises';
import { isRunning } from '../../core/agent';
import type { AgentUsage } from '../../core/apiProxy/agentUsage';
import { usageLine } from '../../core/apiProxy/usageText';
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
          // What each coding agent used of its API, as kept by whichever process served the key proxy.
          const usage = core.apiUsage.read();
          if (flags.json) {
            process.stdout.write(JSON.stringify(current.map((stats) => ({ ...stats, ...withUsage(usage.get(stats.agentId)) }))) + '\n');
          } else {
            process.stdout.write((flags.watch && process.stdout.isTTY ? '\x1b[H\x1b[2J' : '') + statsTable(current, usage));
          }
        } while (flags.watch && !signal.aborted);
      });
      return 0;
    } finally {
      sampler.dispose();
    }
  },
};

/** `api` in --json: the agent's counts, only when it used its API. */
function withUsage(usage: AgentUsage | undefined): { api?: AgentUsage } {
  return usageLine(usage) ? { api: usage } : {};
}

function statsTable(rows: readonly AgentStats[], usage: ReadonlyMap<string, AgentUsage>): string {
  if (rows.length === 0) {
    return 'no running agents\n';
  }
  return alignedTable([
    ['ID', 'CPU', 'MEMORY / LIMIT', 'PIDS', 'NET RX / TX', 'DISK', 'API'],
    ...rows.map((s) => [
      s.agentId,
      `${s.cpuPercent.toFixed(1)}%`,
      `${formatBytes(s.memoryBytes)} / ${s.memoryLimitBytes ? formatBytes(s.memoryLimitBytes) : 'none'}${s.oomKills ? ` (${s.oomKills} killed: out of memory)` : ''}`,
      String(s.pids),
      `${formatBytes(s.netRxBytes)} / ${formatBytes(s.netTxBytes)}`,
      s.diskBytes === undefined ? '' : formatBytes(s.diskBytes),
      usageLine(usage.get(s.agentId)) ?? '',
    ]),
  ]);
}
