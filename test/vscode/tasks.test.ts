import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TaskOutcome } from '../../src/core/codingAgents/taskRunner';
import { fakeAgentPreset } from '../support/fakeCodingAgent';
import { waitFor } from '../support/waitFor';
import { gitisoSuite } from './gitisoSuite';

describe('coding agents in a real VS Code', () => {
  const prefix = `t-vst-${Date.now().toString(36)}`;
  const suite = gitisoSuite({ prefix, repos: { tasks: { 'README.md': '# tasks\n' } } });
  const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('gitiso');

  before(async () => {
    // The user's own coding agent: the fake one (its source as an argument), as gitiso.codingAgents holds it.
    await config().update('codingAgents', [fakeAgentPreset()], vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await config().update('codingAgents', undefined, vscode.ConfigurationTarget.Global);
  });

  const row = (id: string) => suite.api.treeItems().find((item) => item.agent.id === id);

  it('New Task to two new agents: both rows say working, then finished, and Open Terminal attaches to the session', async () => {
    const outcomes = await vscode.commands.executeCommand<TaskOutcome[]>('gitiso.newTask', { prompt: 'ask before writing the task down', preset: 'fake', count: 2, prefix, repoUrl: suite.server.url('tasks') });
    const ids = [`${prefix}-1`, `${prefix}-2`];
    assert.deepEqual(outcomes, ids.map((id) => ({ id, started: true })));
    for (const id of ids) {
      // The fake agent asks before it ends: working, then waiting (15 s of quiet) would follow; it is answered below.
      await waitFor(`${id}'s row to show its task`, () => /^(working|waiting)/.test(String(row(id)?.description)), 20_000);
      assert.match(String((row(id)?.tooltip as vscode.MarkdownString | undefined)?.value), /\| Task \| `ask before writing the task down` \|/);
      assert.match(String(row(id)?.contextValue), /;session;/);
    }
    const terminal = await vscode.commands.executeCommand<vscode.Terminal>('gitiso.openTerminal', ids[0]);
    assert.equal(terminal?.name, `${ids[0]}: fake`);
    // What is typed in the terminal reaches the coding agent in its session.
    terminal.sendText('yes');
    await waitFor('the answered task to finish', () => String(row(ids[0] as string)?.description).startsWith('finished'), 30_000);
    terminal.dispose();
    assert.equal((await suite.api.gitiso.local.core.exec.run(ids[0] as string, ['cat', 'ANSWER.md'])).stdout, 'yes\n');
    // Closing the terminal detached it: the session is still there, and the other agent's task still waits for its answer.
    assert.equal((await suite.api.gitiso.local.core.sessions.state(ids[0] as string))?.activity, 'finished');
    assert.match(String(row(ids[1] as string)?.description), /^(working|waiting)/);
  });

  it('shows the API usage kept on the host (whichever process served the key proxy) in the row\'s tooltip', async () => {
    const id = `${prefix}-2`;
    const tooltip = (): string => String((row(id)?.tooltip as vscode.MarkdownString | undefined)?.value);
    assert.doesNotMatch(tooltip(), /\| API \|/, 'a tooltip shows usage the agent never had');
    // As the CLI's task (another process) keeps it.
    await suite.api.gitiso.apiUsage.add(new Map([[id, { requests: 12, bytesIn: 6 * 1024, bytesOut: 50 * 1024, inputTokens: 3400, outputTokens: 1234, refused: 0 }]]));
    await waitFor('the usage in the tooltip', () => tooltip().includes('| API | `12 requests · 3.4k tokens in · 1.2k out · 56 KB` |'), 10_000);
  });
});
