import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentApiAccess } from '../../src/core/apiProxy/agentApiAccess';
import type { AgentUsage } from '../../src/core/apiProxy/agentUsage';
import { USAGE_FILE, UsageStore } from '../../src/core/apiProxy/usageStore';
import { usageLine } from '../../src/core/apiProxy/usageText';
import { AgentSessions, ATTACH_COMMAND } from '../../src/core/codingAgents/agentSessions';
import { codingAgentPresets, presetNamed } from '../../src/core/codingAgents/codingAgentPreset';
import { taskTitle } from '../../src/core/codingAgents/sessionState';
import { TaskRunner } from '../../src/core/codingAgents/taskRunner';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import type { Engine } from '../../src/core/docker/engine';
import { containerNameFor } from '../../src/core/names';
import { FakeLlmApi } from '../support/fakeLlmApi';
import { GitServer } from '../support/gitServer';
import { FAKE_AGENT_SOURCE, fakeAgentPreset } from '../support/fakeCodingAgent';
import { LLM_CLIENT_SCRIPT } from '../support/llmClient';
import { makeTestCertificates } from '../support/testCertificates';
import { idPrefix, makeTempDir, removeAgents, removeDir, TEST_NETWORK, testEngine, testImage, TEST_LIMITS } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

// The bundled CLI, as users run it (built by `npm run build`).
const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

/** `gitiso stats --json` in a process of its own, with its storage in `home`: each running agent's figures and kept API usage. */
function statsFromAnotherProcess(home: string): Promise<{ agentId: string; api?: AgentUsage }[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'stats', '--json'], { env: { ...process.env, GITISO_HOME: home }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`gitiso stats failed: ${stderr}`));
      } else {
        resolve(JSON.parse(stdout) as { agentId: string; api?: AgentUsage }[]);
      }
    });
  });
}


/** The user's own preset, as gitiso.codingAgents holds it: the fake agent's source goes in as an argument. */
const PRESETS = codingAgentPresets([fakeAgentPreset()]);

describe('coding agents in sessions', () => {
  let engine: Engine;
  let server: GitServer;
  let core: GitisoCore;
  let sessions: AgentSessions;
  const prefix = idPrefix('task');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('app', { 'README.md': '# app\n' });
    core = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'T', email: 't@example.com' } });
    // A quiet spell of two seconds reads as waiting here (15 s for users): the test need not wait long.
    sessions = new AgentSessions(core.exec, 2);
    const outcomes = await core.creator.createMany(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ id: id(name), repoUrl: server.url('app') })));
    assert.deepEqual(outcomes.filter((outcome) => 'error' in outcome), []);
  });

  after(async () => {
    core?.dispose();
    await removeAgents(engine, prefix);
    await server?.stop();
  });

  const head = async (agent: string): Promise<string> => (await core.exec.git(agent, ['log', '-1', '--format=%s'])).stdout.trim();

  it('runs a task in each agent, in a session of its own: the prompt arrives as one argument, nothing in it evaluated', async () => {
    const prompt = 'add a TASK file; $(touch /tmp/evaluated) `touch /tmp/evaluated` "quoted" \'single\'\nsecond line';
    const runner = new TaskRunner({ sessions });
    const outcomes = await runner.start({ prompt, preset: presetNamed(PRESETS, 'fake'), agentIds: [id('a'), id('b')] });
    assert.deepEqual(outcomes, [{ id: id('a'), started: true }, { id: id('b'), started: true }]);
    for (const agent of [id('a'), id('b')]) {
      await waitFor(`${agent}'s task to finish`, async () => (await sessions.state(agent))?.activity === 'finished', 30_000);
      const state = await sessions.state(agent);
      assert.equal(state?.exitCode, 0);
      assert.deepEqual({ preset: state?.task?.preset, title: state?.task?.title }, { preset: 'fake', title: taskTitle(prompt) });
      assert.match(state?.task?.title ?? '', /^add a TASK file; \$\(touch/);
      assert.equal((await core.exec.run(agent, ['cat', 'TASK.md'])).stdout, `${prompt}\n`);
      assert.match(await head(agent), /^fake agent: add a TASK file/);
      assert.notEqual((await core.exec.run(agent, ['test', '-e', '/tmp/evaluated'])).exitCode, 0, 'a part of the prompt was run by a shell');
    }
    // The others were not asked.
    assert.equal(await sessions.state(id('c')), undefined);
  });

  it('reports the exit status, and leaves a running session as it is when asked again', async () => {
    const preset = presetNamed(PRESETS, 'fake');
    const runner = new TaskRunner({ sessions });
    assert.deepEqual(await runner.start({ prompt: 'fail with exit 3', preset, agentIds: [id('c')] }), [{ id: id('c'), started: true }]);
    await waitFor('the failing task to finish', async () => (await sessions.state(id('c')))?.activity === 'finished', 30_000);
    assert.equal((await sessions.state(id('c')))?.exitCode, 3);
    assert.match((await core.exec.run(id('c'), ['tmux', 'capture-pane', '-p', '-t', 'gitiso'])).stdout, /ended with exit status 3/, 'the pane keeps its output');
    // A finished session stays (its output is there to read) until it is stopped; then a new task can start.
    assert.deepEqual(await runner.start({ prompt: 'again', preset, agentIds: [id('c')] }), [{ id: id('c'), started: false }]);
    await sessions.stop(id('c'));
    assert.equal(await sessions.state(id('c')), undefined);
  });

  it('waits for input in a session that outlives the process that started it, and takes it from a terminal attached later', async () => {
    const preset = presetNamed(PRESETS, 'fake');
    await new TaskRunner({ sessions }).start({ prompt: 'ask me first', preset, agentIds: [id('d')] });
    await waitFor('the task to wait for input', async () => (await sessions.state(id('d')))?.activity === 'waiting', 30_000);
    // Another process (a reloaded window, the CLI again) finds the session and attaches to it.
    const other = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS });
    try {
      assert.equal((await new AgentSessions(other.exec, 2).state(id('d')))?.activity, 'waiting');
      const terminal = await other.exec.openInteractive(containerNameFor(id('d')), { command: ATTACH_COMMAND, columns: 100, rows: 30 });
      let screen = '';
      terminal.onData((text) => (screen += text));
      await waitFor('the question on the attached terminal', () => screen.includes('shall I go on?'), 15_000);
      terminal.write('yes, go on\r');
      await waitFor('the task to finish', async () => (await sessions.state(id('d')))?.activity === 'finished', 30_000);
      await waitFor('its last words on the terminal', () => screen.includes('ended with exit status 0'), 15_000);
      terminal.dispose();
      assert.equal((await core.exec.run(id('d'), ['cat', 'ANSWER.md'])).stdout, 'yes, go on\n');
      // Detached, the session is still there.
      assert.equal((await sessions.state(id('d')))?.activity, 'finished');
    } finally {
      other.dispose();
    }
    await sessions.stop(id('d'));
  });

  it('installs a preset\'s tool in an agent made without it before its task starts; a failed install starts nothing and names the preset', async () => {
    const tool = 'gitiso-test-tool';
    const install = `printf '#!/bin/sh\\necho "$1" > /workspace/TOOL_RAN\\n' > /usr/local/bin/${tool} && chmod +x /usr/local/bin/${tool}`;
    const presets = codingAgentPresets([
      { name: 'installed', command: [tool], task: [tool, '{prompt}'], install },
      { name: 'broken', command: ['gitiso-missing-tool'], task: ['gitiso-missing-tool', '{prompt}'], install: 'echo no such package >&2; exit 7' },
    ]);
    const runner = new TaskRunner({ sessions, tools: core.tools });
    assert.notEqual((await core.exec.run(id('c'), ['sh', '-c', `command -v ${tool}`])).exitCode, 0, 'the agent has the tool before the task');
    assert.deepEqual(await runner.start({ prompt: 'made by the installed tool', preset: presetNamed(presets, 'installed'), agentIds: [id('c')] }), [{ id: id('c'), started: true }]);
    await waitFor('the installed tool to run', async () => (await core.exec.run(id('c'), ['cat', 'TOOL_RAN'])).stdout === 'made by the installed tool\n', 30_000);
    assert.equal(await core.tools.ensure(id('c'), presetNamed(presets, 'installed')), false, 'installed again in an agent that has it');
    await sessions.stop(id('c'));
    const [outcome] = await runner.start({ prompt: 'anything', preset: presetNamed(presets, 'broken'), agentIds: [id('c')] });
    assert.ok(outcome && 'error' in outcome, JSON.stringify(outcome));
    assert.match(outcome.error.message, /coding agent 'broken' could not be installed.*gitiso\.codingAgents/);
    assert.equal(await sessions.state(id('c')), undefined, 'a session started without its tool');
  });

  it('says what to do in an agent whose image has no tmux, and starts nothing', async () => {
    await core.exec.run(id('e'), ['sh', '-c', 'mv "$(command -v tmux)" /usr/local/bin/tmux-moved']);
    try {
      const [outcome] = await new TaskRunner({ sessions }).start({ prompt: 'anything', preset: presetNamed(PRESETS, 'fake'), agentIds: [id('e')] });
      assert.ok(outcome && 'error' in outcome);
      assert.match(outcome.error.message, /has no tmux.*gitiso\.image/);
    } finally {
      await core.exec.run(id('e'), ['sh', '-c', 'mv /usr/local/bin/tmux-moved /usr/bin/tmux']);
    }
    assert.equal(await sessions.state(id('e')), undefined);
  });

  it('refuses a preset that calls an API when no key proxy runs, before anything starts', async () => {
    const [outcome] = await new TaskRunner({ sessions }).start({ prompt: 'anything', preset: presetNamed(codingAgentPresets(undefined), 'claude-code'), agentIds: [id('e')] });
    assert.ok(outcome && 'error' in outcome);
    assert.match(outcome.error.message, /no key proxy/);
    assert.equal(await sessions.state(id('e')), undefined);
  });

  it('calls its API through the host\'s proxy with a token of its own: the key never enters the agent, usage is counted', async () => {
    const key = `sk-test-${randomBytes(16).toString('hex')}`;
    const dir = makeTempDir('task-api');
    const certificates = makeTestCertificates(dir);
    const upstream = await FakeLlmApi.start(key, certificates);
    const api = { upstream: `${upstream.url}/anthropic`, baseUrlEnv: 'FAKE_BASE_URL', keyEnv: 'FAKE_API_KEY', keyHeader: 'x-api-key' };
    const [preset] = codingAgentPresets([{ name: 'fake-api', command: ['python3', '-c', FAKE_AGENT_SOURCE], task: ['python3', '-c', FAKE_AGENT_SOURCE, '{prompt}', 'FAKE_BASE_URL', 'FAKE_API_KEY'], api }]).filter((p) => p.name === 'fake-api');
    assert.ok(preset);
    const tokensFile = join(dir, 'tokens.json');
    // Where the proxy's process keeps each agent's usage; the CLI below reads it from another process (GITISO_HOME).
    const store = new UsageStore(join(dir, USAGE_FILE));
    const agentIds = async (): Promise<string[]> => (await core.agents.list()).map((agent) => agent.id);
    const access = new AgentApiAccess({ engine, network: core.network, apis: [api], keyFor: () => key, ca: certificates.ca, port: 0, tokensFile, usage: store, agentIds });
    try {
      const [outcome] = await new TaskRunner({ sessions, access }).start({ prompt: 'call the api', preset, agentIds: [id('f')] });
      assert.deepEqual(outcome, { id: id('f'), started: true });
      await waitFor('the task to finish', async () => (await sessions.state(id('f')))?.activity === 'finished', 30_000);
      assert.equal((await sessions.state(id('f')))?.exitCode, 0);
      const screen = (await core.exec.run(id('f'), ['tmux', 'capture-pane', '-p', '-S', '-200', '-t', 'gitiso'])).stdout;
      assert.match(screen, /api: event: message_stop/, screen);
      // The upstream saw the real key, from the proxy; the agent had only its token.
      assert.equal(upstream.seen.length, 1);
      assert.equal(upstream.seen[0]?.keyed, true);
      assert.deepEqual(
        Object.fromEntries(Object.entries((await access.usage()).get(id('f')) ?? {}).filter(([name]) => /requests|Tokens/.test(name))),
        { requests: 1, inputTokens: 10, outputTokens: 20 },
      );
      const container = containerNameFor(id('f'));
      const inspect = execFileSync('docker', ['inspect', container], { encoding: 'utf8' });
      const everywhere = (await core.exec.run(id('f'), ['sh', '-c', 'cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"; grep -rs --exclude-dir=proc --exclude-dir=sys -l "$0" / ; echo end', key])).stdout;
      // What the session ran it with (tmux keeps a dead pane's command): its token, never the key.
      const started = (await core.exec.run(id('f'), ['tmux', 'display-message', '-p', '-t', 'gitiso', '#{pane_start_command}'])).stdout;
      assert.match(started, /FAKE_API_KEY=gitiso-[A-Za-z0-9_-]{43}/, started);
      assert.match(started, /FAKE_BASE_URL=http:\/\/[\d.]+:\d+\/localhost-\d+-anthropic/, started);
      for (const text of [inspect, everywhere, screen, started]) {
        assert.ok(!text.includes(key), 'the key is in the agent');
      }
      // Kept between runs as digests: the token itself is not in the file.
      assert.match(readFileSync(tokensFile, 'utf8'), new RegExp(`"agentId":"${id('f')}"`));

      // Kept on the host: another process (here the CLI's stats) shows what the upstream reported.
      await waitFor('the usage to be kept', () => store.read().get(id('f'))?.requests === 1, 10_000);
      const shown = (await statsFromAnotherProcess(dir)).find((row) => row.agentId === id('f'));
      assert.deepEqual({ requests: shown?.api?.requests, input: shown?.api?.inputTokens, output: shown?.api?.outputTokens, refused: shown?.api?.refused }, { requests: 1, input: 10, output: 20, refused: 0 });
      assert.match(usageLine(shown?.api) ?? '', /^1 request · 10 tokens in · 20 out · \d+ (B|KB)$/);
      const kept = store.read().get(id('f'));

      // The attacker's case: agent a, with agent f's token (and its base URL), from a's own address: refused, not
      // sent upstream, not counted to f (nor to anyone).
      const env = await access.envFor(id('f'), api);
      const seenBefore = upstream.seen.length;
      const ask = (agent: string, body: unknown) => core.exec.run(id(agent), ['env', ...Object.entries(env).map(([name, value]) => `${name}=${value}`), 'python3', '-c', LLM_CLIENT_SCRIPT, JSON.stringify({ env: 'FAKE', path: '/v1/messages', body })], { timeoutMs: 60_000 });
      const stolen = await ask('a', { input: 1, output: 1 });
      assert.equal(stolen.exitCode, 0, stolen.stderr);
      assert.equal((JSON.parse(stolen.stdout) as { status: number }).status, 403, stolen.stdout);
      assert.equal(upstream.seen.length, seenBefore, 'upstream saw the stolen token\'s request');
      // f itself claims a huge usage in its request: only what the upstream answered is counted.
      const claimed = await ask('f', { input: 7, output: 9, usage: { input_tokens: 1e9, output_tokens: 1e9 }, message: { usage: { input_tokens: 1e9 } } });
      assert.equal((JSON.parse(claimed.stdout) as { status: number }).status, 200, claimed.stdout);
      assert.deepEqual(upstream.seen.at(-1)?.reported, { input: 7, output: 9 });
      await waitFor('the second request to be kept', () => store.read().get(id('f'))?.requests === 2, 10_000);
      const later = store.read().get(id('f'));
      assert.deepEqual({ input: later?.inputTokens, output: later?.outputTokens, refused: later?.refused }, { input: (kept?.inputTokens ?? 0) + 7, output: (kept?.outputTokens ?? 0) + 9, refused: 0 });
      assert.equal(store.read().has(id('a')), false, 'the stolen token\'s request was counted to its user');
      assert.equal((await access.usage()).get(id('a')), undefined);

      access.revoke(id('f'));
      await waitFor('the revoked token to leave the kept table', () => !readFileSync(tokensFile, 'utf8').includes(id('f')));
      await waitFor('the removed agent\'s usage to leave the store', () => !store.read().has(id('f')));
    } finally {
      await access.close();
      await upstream.stop();
      removeDir(dir);
      await sessions.stop(id('f'));
    }
  });
});
