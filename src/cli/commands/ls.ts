import type { Agent } from '../../core/agent';
import { alignedTable } from '../table';
import type { CliCommand } from './command';

export const lsCommand: CliCommand = {
  name: 'ls',
  aliases: ['list'],
  usage: 'gitiso ls [--json]',
  async run({ flags }, { core }) {
    const agents = await core.agents.list();
    process.stdout.write(flags.json ? JSON.stringify(agents.map(toJson), null, 2) + '\n' : agentTable(agents));
    return 0;
  },
};

function toJson(agent: Agent): Record<string, unknown> {
  return { ...agent, createdAt: agent.createdAt.toISOString() };
}

function agentTable(agents: readonly Agent[]): string {
  if (agents.length === 0) {
    return 'no agents: create one with gitiso create ID --repo URL\n';
  }
  return alignedTable([
    ['ID', 'STATE', 'BRANCH', 'BASE', 'REPOSITORY', 'CREATED', 'NOTE'],
    // The note says why an agent is in error (or its setup failed): what to do about it.
    ...agents.map((a) => [a.id, a.state, a.sessionBranch, a.baseBranch, a.repoUrl, a.createdAt.toISOString().replace(/\.\d+Z$/, 'Z'), a.state === 'stopped' ? '' : (a.reason ?? '')]),
  ]);
}
