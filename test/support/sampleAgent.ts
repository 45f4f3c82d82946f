import type { AgentIdentity } from '../../src/core/agent';

/** One agent's identity, for unit tests of what is derived from it. */
export const SAMPLE_IDENTITY: AgentIdentity = {
  id: 'a1',
  repoUrl: 'git://h/r.git',
  baseBranch: 'main',
  baseCommit: 'c0ffee',
  sessionBranch: 'gitiso/a1',
  image: 'node:22',
  strategy: 'snapshot',
  createdAt: new Date('2026-01-02T03:04:05.000Z'),
};
