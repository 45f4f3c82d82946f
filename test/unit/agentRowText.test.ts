import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OOM_KILLED_REASON, type Agent, type AgentState } from '../../src/core/agent';
import { attentionBadge, attentionOf, contextValueOf, rowDescription, shortBytes } from '../../src/vscode/views/agentRowText';
import { SAMPLE_IDENTITY } from '../support/sampleAgent';

function agentOf(state: AgentState, extra: Partial<Agent> = {}): Agent {
  return { ...SAMPLE_IDENTITY, containerId: 'c1', gitisoVersion: '0.1.0', state, ...extra };
}

const stats = { cpuPercent: 3.4, memoryBytes: 120 * 1024 ** 2, oomKills: 0 };

describe('an agent row', () => {
  it('says the state, then CPU and memory in short forms while it runs, and never the branch', () => {
    assert.equal(rowDescription({ agent: agentOf('ready'), stats }), 'ready · 3% · 120M');
    assert.equal(rowDescription({ agent: agentOf('ready') }), 'ready');
    assert.equal(rowDescription({ agent: agentOf('stopped', { reason: 'Exited (137)' }) }), 'stopped');
    assert.ok(!rowDescription({ agent: agentOf('ready'), stats }).includes('gitiso/'));
  });

  it("says what its coding agent does in place of ready, and leaves the agent's own failures first", () => {
    assert.equal(rowDescription({ agent: agentOf('ready'), stats, session: { activity: 'working' } }), 'working · 3% · 120M');
    assert.equal(rowDescription({ agent: agentOf('ready'), session: { activity: 'waiting' } }), 'waiting');
    assert.equal(rowDescription({ agent: agentOf('ready'), session: { activity: 'finished', exitCode: 0 } }), 'finished');
    assert.equal(rowDescription({ agent: agentOf('ready'), session: { activity: 'finished', exitCode: 3 } }), 'failed (3)');
    assert.equal(rowDescription({ agent: agentOf('ready', { setupError: 'npm ci failed' }), session: { activity: 'working' } }), 'install failed');
    assert.equal(contextValueOf(agentOf('ready'), { session: true }), ';agent;ready;running;session;');
    assert.equal(contextValueOf(agentOf('stopped'), { session: true }), ';agent;stopped;');
  });

  it('tells the failures the user must act on apart', () => {
    assert.equal(rowDescription({ agent: agentOf('error', { reason: OOM_KILLED_REASON }) }), 'OOM-killed');
    assert.equal(rowDescription({ agent: agentOf('ready', { setupError: 'npm ci failed' }), stats }), 'install failed · 3% · 120M');
    assert.equal(rowDescription({ agent: agentOf('ready'), stats: { ...stats, oomKills: 2 } }), 'OOM-killed · 3% · 120M');
    assert.equal(rowDescription({ agent: agentOf('error', { reason: 'boom' }) }), 'error');
  });

  it('shows a create step, cut short', () => {
    assert.equal(rowDescription({ agent: agentOf('creating'), progress: { message: 'cloning', percent: 40 } }), 'creating · cloning 40%');
    const long = rowDescription({ agent: agentOf('creating'), progress: { message: 'building the snapshot of the repository at its base' } });
    assert.ok(long.length <= 'creating · '.length + 24, long);
    assert.ok(long.endsWith('…'));
  });

  it('writes bytes in a few characters', () => {
    assert.deepEqual([512, 512 * 1024, 1.5 * 1024 ** 2, 120 * 1024 ** 2, 1.5 * 1024 ** 3, 12 * 1024 ** 3].map(shortBytes), ['512B', '512K', '1.5M', '120M', '1.5G', '12G']);
  });
});

describe('a row\'s menu facts', () => {
  it('match package.json\'s `;fact;` regexes and leave out what is false', () => {
    assert.equal(contextValueOf(agentOf('ready')), ';agent;ready;running;');
    assert.equal(contextValueOf(agentOf('ready'), { devRunning: true, forwarded: true }), ';agent;ready;running;dev-running;forwarded;');
    assert.equal(contextValueOf(agentOf('stopped'), { devRunning: true, forwarded: true }), ';agent;stopped;');
    assert.equal(contextValueOf(agentOf('creating')), ';agent;creating;');
    // `running` is never matched by `dev-running` with the `;` delimiters.
    assert.ok(!/;running;/.test(';agent;stopped;dev-running;'));
  });
});

describe('the view\'s badge', () => {
  it('counts only the agents that need attention, and is absent when none do', () => {
    assert.equal(attentionBadge([agentOf('ready'), agentOf('stopped'), agentOf('creating')]), undefined);
    const agents = [
      agentOf('ready', { id: 'fine' }),
      agentOf('error', { id: 'failed', reason: 'boom' }),
      agentOf('error', { id: 'oom', reason: OOM_KILLED_REASON }),
      agentOf('ready', { id: 'install', setupError: 'x' }),
      agentOf('ready', { id: 'killed-inside' }),
    ];
    const badge = attentionBadge(agents, (id) => (id === 'killed-inside' ? { oomKills: 1 } : undefined));
    assert.equal(badge?.value, 4);
    assert.match(badge?.tooltip ?? '', /4 agents need attention/);
    assert.ok(!badge?.tooltip.includes('fine'));
  });

  it('names why an agent needs the user', () => {
    assert.equal(attentionOf(agentOf('error', { reason: OOM_KILLED_REASON })), 'oom-killed');
    assert.equal(attentionOf(agentOf('ready', { setupError: 'x' })), 'setup-failed');
    assert.equal(attentionOf(agentOf('error')), 'error');
    assert.equal(attentionOf(agentOf('stopped')), undefined);
  });
});
