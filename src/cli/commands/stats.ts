import { setTimeout as delay } from 'node:timers/promises';
import { isRunning, type Agent } from '../../core/agent';
import type { AgentUsage } from '../../core/apiProxy/agentUsage';
import { usageLine } from '../../core/apiProxy/usageText';
import type { GitisoCore } from '../../core/gitisoCore';
import { formatBytes } from '../../core/limits/agentLimits';
import { StatsSampler, type AgentStats } from '../../core/stats/statsSampler';
import { engineNotAnswering } from '../context';
import { withInterrupt } from '../interrupt';
import { alignedTable } from '../table';
import type { CliCommand } from './command';

export const statsCommand: CliCommand = {
  name: 'stats',
  usage: 'gitiso stats [--json] [--watch] [--all-engines]',
  async run({ flags }, context) {
    const allEngines = flags['all-engines'] === true;
    const engines = allEngines ? context.everyEngine() : [{ name: '', core: context.core }];
    const unanswered = new Set<string>();
    // With --all-engines, an engine that does not answer is said once on stderr; the others' figures still print.
    const runningOn = (name: string, core: GitisoCore) => async (): Promise<readonly Agent[]> => {
      try {
        return (await core.agents.list()).filter(isRunning);
      } catch (error) {
        if (allEngines && !unanswered.has(name)) {
          unanswered.add(name);
          process.stderr.write(engineNotAnswering(name, core, error));
        }
        throw error;
      }
    };
    const samplers = engines.map(({ name, core }) => ({ name, sampler: new StatsSampler({ exec: core.exec, engine: core.engine, runningAgents: runningOn(name, core), log: context.log }, { diskIntervalMs: 60_000 }) }));
    const sampleAll = async (): Promise<EngineStats[]> => (await Promise.all(samplers.map(async ({ name, sampler }) => [...(await sampler.sample()).values()].map((stats) => ({ engine: name, stats }))))).flat();
    try {
      // With --watch, Ctrl-C ends the loop after the sample under way is printed.
      await withInterrupt(async (signal) => {
        // CPU is a rate: a first reading, then one a second later.
        await sampleAll();
        do {
          await delay(flags.watch ? 2_000 : 1_000);
          const current = (await sampleAll()).sort((a, b) => a.engine.localeCompare(b.engine) || a.stats.agentId.localeCompare(b.stats.agentId));
          // What each coding agent used of its API, as kept by whichever process served the key proxy.
          const usage = context.core.apiUsage.read();
          if (flags.json) {
            process.stdout.write(JSON.stringify(current.map(({ engine, stats }) => ({ ...(allEngines ? { engine } : {}), ...stats, ...withUsage(usage.get(stats.agentId)) }))) + '\n');
          } else {
            process.stdout.write((flags.watch && process.stdout.isTTY ? '\x1b[H\x1b[2J' : '') + statsTable(current, usage, allEngines));
          }
        } while (flags.watch && !signal.aborted);
      });
      return unanswered.size > 0 ? 1 : 0;
    } finally {
      samplers.forEach(({ sampler }) => sampler.dispose());
    }
  },
};

/** One agent's figures, and the engine it runs on (with --all-engines). */
interface EngineStats {
  readonly engine: string;
  readonly stats: AgentStats;
}

/** `api` in --json: the agent's counts, only when it used its API. */
function withUsage(usage: AgentUsage | undefined): { api?: AgentUsage } {
  return usageLine(usage) ? { api: usage } : {};
}

function statsTable(rows: readonly EngineStats[], usage: ReadonlyMap<string, AgentUsage>, withEngine: boolean): string {
  if (rows.length === 0) {
    return 'no running agents\n';
  }
  const header = ['ID', 'CPU', 'MEMORY / LIMIT', 'PIDS', 'NET RX / TX', 'DISK', 'API'];
  const cells = (s: AgentStats): string[] => [
    s.agentId,
    `${s.cpuPercent.toFixed(1)}%`,
    `${formatBytes(s.memoryBytes)} / ${s.memoryLimitBytes ? formatBytes(s.memoryLimitBytes) : 'none'}${s.oomKills ? ` (${s.oomKills} killed: out of memory)` : ''}`,
    String(s.pids),
    `${formatBytes(s.netRxBytes)} / ${formatBytes(s.netTxBytes)}`,
    s.diskBytes === undefined ? '' : formatBytes(s.diskBytes),
    usageLine(usage.get(s.agentId)) ?? '',
  ];
  return alignedTable(withEngine ? [['ENGINE', ...header], ...rows.map(({ engine, stats }) => [engine, ...cells(stats)])] : [header, ...rows.map(({ stats }) => cells(stats))]);
}
