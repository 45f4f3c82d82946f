import type { Agent } from '../../core/agent';
import { engineNotAnswering, type CliContext } from '../context';
import { alignedTable } from '../table';
import type { CliCommand } from './command';

export const lsCommand: CliCommand = {
  name: 'ls',
  aliases: ['list'],
  usage: 'gitiso ls [--json] [--all-engines]',
  async run({ flags }, context) {
    if (flags['all-engines']) {
      return listEveryEngine(context, flags.json === true);
    }
    const agents = await context.core.agents.list();
    process.stdout.write(flags.json ? JSON.stringify(agents.map((agent) => toJson(agent)), null, 2) + '\n' : agentTable(agents));
    return 0;
  },
};

/** Every engine's agents, with an ENGINE column; an engine that does not answer is said on stderr, and the exit code is 1. */
async function listEveryEngine(context: CliContext, json: boolean): Promise<number> {
  const listed = await Promise.all(
    context.everyEngine().map(async ({ name, core }) => {
      try {
        return { name, agents: await core.agents.list() };
      } catch (error) {
        process.stderr.write(engineNotAnswering(name, core, error));
        return { name, failed: true };
      }
    }),
  );
  const rows = listed.flatMap(({ name, agents }) => (agents ?? []).map((agent) => ({ engine: name, agent })));
  process.stdout.write(json ? JSON.stringify(rows.map(({ engine, agent }) => toJson(agent, engine)), null, 2) + '\n' : agentTable(rows.map(({ agent }) => agent), rows.map(({ engine }) => engine)));
  return listed.some(({ failed }) => failed) ? 1 : 0;
}

function toJson(agent: Agent, engine?: string): Record<string, unknown> {
  return { ...(engine ? { engine } : {}), ...agent, createdAt: agent.createdAt.toISOString() };
}

function agentTable(agents: readonly Agent[], engines?: readonly string[]): string {
  if (agents.length === 0) {
    return 'no agents: create one with gitiso create ID --repo URL\n';
  }
  const header = ['ID', 'STATE', 'BRANCH', 'BASE', 'REPOSITORY', 'CREATED', 'NOTE'];
  // The note says why an agent is in error (or its setup failed): what to do about it.
  const cells = (a: Agent): string[] => [a.id, a.state, a.sessionBranch, a.baseBranch, a.repoUrl, a.createdAt.toISOString().replace(/\.\d+Z$/, 'Z'), a.state === 'stopped' ? '' : (a.reason ?? '')];
  return alignedTable(engines ? [['ENGINE', ...header], ...agents.map((a, index) => [engines[index] ?? '', ...cells(a)])] : [header, ...agents.map(cells)]);
}
