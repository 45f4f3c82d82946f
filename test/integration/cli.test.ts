import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LABEL } from '../../src/core/agent';
import { Engine } from '../../src/core/docker/engine';
import { fakeAgentPreset } from '../support/fakeCodingAgent';
import { GitServer } from '../support/gitServer';
import { secondEngine } from '../support/secondEngine';
import { idPrefix, removeAgents, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

// The bundled CLI, as users run it (built by `npm run build`).
const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

function gitiso(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return gitisoWith({}, ...args);
}

function gitisoWith(env: NodeJS.ProcessEnv, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GITISO_IMAGE: testImage(), GITISO_NETWORK: TEST_NETWORK, ...env },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('gitiso CLI', () => {
  let engine: Engine;
  let server: GitServer;
  const prefix = idPrefix('cli');
  const agentId = `${prefix}-a1`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('cli');
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await server?.stop();
  });

  it('create, then git rev-parse prints the session branch', () => {
    const created = gitiso('create', agentId, '--repo', server.url('cli'));
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, new RegExp(`${agentId}: ready: agent '${agentId}' is ready on gitiso/${agentId}`));
    // The first agent of a repository never seen did not wait for its snapshot: the CLI says why it goes on.
    assert.match(created.stderr, /building the snapshot that the next agents of this repository start from \(Ctrl-C skips it/);
    const branch = gitiso('git', agentId, '--', 'rev-parse', '--abbrev-ref', 'HEAD');
    assert.equal(branch.code, 0, branch.stderr);
    assert.equal(branch.stdout, `gitiso/${agentId}\n`);
  });

  it('stats prints the agent\'s figures; limits changes them in place; dev says when no server runs', () => {
    const limited = gitiso('limits', agentId, '--memory', '300m', '--pids', '200');
    assert.equal(limited.code, 0, limited.stderr);
    assert.equal(limited.stdout, `${agentId}: 300 MB, 2 CPUs, 200 processes\n`);
    const stats = gitiso('stats', '--json');
    assert.equal(stats.code, 0, stats.stderr);
    const rows = JSON.parse(stats.stdout) as { agentId: string; memoryLimitBytes: number; pids: number; diskBytes?: number }[];
    const mine = rows.find((row) => row.agentId === agentId);
    assert.ok(mine, stats.stdout);
    assert.equal(mine.memoryLimitBytes, 300 * 1024 ** 2);
    assert.ok(mine.pids >= 1 && typeof mine.diskBytes === 'number');
    assert.match(gitiso('stats').stdout, new RegExp(`^${agentId}\\s+\\d+\\.\\d%\\s+[\\d.]+ (B|KB|MB) / 300 MB`, 'm'));
    const dev = gitiso('dev', 'status', agentId);
    assert.deepEqual({ code: dev.code, out: dev.stdout }, { code: 3, out: `${agentId}: no dev server running\n` });
    assert.match(gitiso('limits', agentId, '--cpus', '0').stderr, /at least 0.1 CPUs/);
  });

  it('ls --json in a new process lists the agent with its branch and repository', () => {
    const listed = gitiso('ls', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const agents = JSON.parse(listed.stdout) as { id: string; sessionBranch: string; repoUrl: string; baseBranch: string; state: string }[];
    const agent = agents.find((a) => a.id === agentId);
    assert.ok(agent, listed.stdout);
    assert.deepEqual(
      { branch: agent.sessionBranch, repo: agent.repoUrl, base: agent.baseBranch, state: agent.state },
      { branch: `gitiso/${agentId}`, repo: server.url('cli'), base: 'main', state: 'ready' },
    );
    const table = gitiso('ls');
    assert.match(table.stdout, new RegExp(`^${agentId}\\s+ready\\s+gitiso/${agentId}\\s+main`, 'm'));
  });

  it('ports lists what the agent listens on', async () => {
    const agent = JSON.parse(gitiso('ls', '--json').stdout).find((a: { id: string }) => a.id === agentId) as { containerId: string };
    await engine.spawnDetached(agent.containerId, ['python3', '-m', 'http.server', '3999', '--bind', '127.0.0.1']);
    let listed = '';
    for (let attempt = 0; attempt < 50 && !listed.includes('3999'); attempt++) {
      listed = gitiso('ports', agentId).stdout;
    }
    assert.match(listed, /^3999\t127\.0\.0\.1\t\(loopback only: not forwardable yet\)$/m);
  });

  it('task runs a coding agent in the agent, in a session that outlives the command', async () => {
    const env = { GITISO_CODING_AGENTS: JSON.stringify([fakeAgentPreset()]), GITISO_CODING_AGENT: 'fake' };
    const started = gitisoWith(env, 'task', 'write the task down', '--on', agentId);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(started.stdout, `${agentId}\tfake\tstarted\n`);
    await waitFor('the coding agent to commit', () => gitiso('git', agentId, '--', 'log', '-1', '--format=%s').stdout === 'fake agent: write the task down\n', 30_000);
    // A preset that calls an API gets its key from the host, here from the tool's own variable: without it, the command says so and starts nothing.
    const refused = gitisoWith({ GITISO_CODING_AGENT: 'claude-code', ANTHROPIC_API_KEY: '' }, 'task', 'anything', '--on', agentId);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^gitiso: ${agentId}: there is no key for https://api\\.anthropic\\.com: set ANTHROPIC_API_KEY`, 'm'));
    assert.match(gitisoWith(env, 'task', 'x', '--agent', 'nope', '--on', agentId).stderr, /no coding agent named 'nope'/);
    assert.equal(gitiso('task', 'no agents given').code, 2);
  });

  it('sync says when an agent is up to date with its remote', () => {
    const synced = gitiso('sync', agentId);
    assert.equal(synced.code, 0, synced.stderr);
    assert.equal(synced.stdout, `${agentId}: origin/main is up to date\n`);
  });

  it("exits with git's own exit code and keeps its stderr", () => {
    const failed = gitiso('git', agentId, '--', 'rev-parse', '--verify', 'nope');
    assert.equal(failed.code, 128);
    assert.match(failed.stderr, /Needed a single revision/);
  });

  it('explains errors in one line with a non-zero exit code', () => {
    const duplicate = gitiso('create', agentId, '--repo', server.url('cli'));
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, new RegExp(`gitiso: agent '${agentId}' already exists`));
    const badId = gitiso('create', '-bad', '--repo', server.url('cli'));
    assert.notEqual(badId.code, 0);
    const unknown = gitiso('frobnicate');
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, "gitiso: unknown command 'frobnicate': run 'gitiso --help'\n");
    const noEngine = gitiso('ls', '--docker-host', 'unix:///tmp/gitiso-none.sock');
    assert.equal(noEngine.code, 1);
    assert.match(noEngine.stderr, /^gitiso: no Docker engine at unix:\/\/\/tmp\/gitiso-none\.sock: start Docker or set DOCKER_HOST/);
  });

  it('works on another engine by name, over ssh; ls and stats --all-engines take in every engine, saying which does not answer', async () => {
    const second = secondEngine();
    const env = { GITISO_ENGINES: JSON.stringify([{ name: 'second', host: 'ssh://gitiso-engine2' }, { name: 'gone', host: 'unix:///tmp/gitiso-none.sock' }]), GITISO_SSH_CONFIG: second.sshConfig };
    const there = `${prefix}-there`;
    try {
      const created = gitisoWith(env, 'create', there, '--repo', server.url('cli'), '--engine', 'second');
      assert.equal(created.code, 0, created.stderr);
      assert.ok((await new Engine(second.unixHost).listContainers(LABEL.agent)).some((c) => c.Labels[LABEL.agent] === there), 'the agent runs on the second engine');
      const listed = gitisoWith(env, 'ls', '--all-engines', '--json');
      assert.equal(listed.code, 1, 'one engine did not answer');
      assert.match(listed.stderr, /^gitiso: engine 'gone' \(unix:\/\/\/tmp\/gitiso-none\.sock does not answer: .*\): its agents are not listed$/m);
      const rows = (JSON.parse(listed.stdout) as { engine: string; id: string }[]).filter((row) => row.id.startsWith(prefix)).map((row) => `${row.engine} ${row.id}`);
      assert.ok(rows.includes(`local ${agentId}`) && rows.includes(`second ${there}`), rows.join(', '));
      assert.match(gitisoWith(env, 'ls', '--all-engines').stdout, new RegExp(`^second\\s+${there}\\s+ready\\s+gitiso/${there}`, 'm'));
      const stats = gitisoWith(env, 'stats', '--all-engines', '--json');
      assert.equal(stats.code, 1, 'one engine did not answer');
      assert.match(stats.stderr, /^gitiso: engine 'gone' .*: its agents are not listed$/m);
      const figures = (JSON.parse(stats.stdout) as { engine: string; agentId: string; pids: number }[]).filter((row) => row.agentId.startsWith(prefix));
      assert.ok(figures.some((row) => row.engine === 'second' && row.agentId === there && row.pids >= 1), JSON.stringify(figures));
      assert.ok(figures.some((row) => row.engine === 'local' && row.agentId === agentId), JSON.stringify(figures));
      // A command on one agent finds the agent's engine when none is named (the engine that does not answer has none).
      const branch = gitisoWith(env, 'git', there, '--', 'rev-parse', '--abbrev-ref', 'HEAD');
      assert.equal(branch.code, 0, branch.stderr);
      assert.equal(branch.stdout.trim(), `gitiso/${there}`);
      assert.equal(gitisoWith(env, 'rm', there).code, 0);
      // Each command's ssh connection ended with it.
      assert.equal(spawnSync('pgrep', ['-f', 'gitiso-ssh-.*gitiso-engine2']).status, 1, 'an ssh process was left running');
    } finally {
      await removeAgents(new Engine(second.unixHost), prefix);
    }
  });

  it('creates several agents at once and lists the snapshot they share', () => {
    const created = gitiso('create', '--count', '2', '--prefix', `${prefix}-n`, '--repo', server.url('cli'));
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(created.stdout.trim().split('\n').map((line) => line.split('\t')[0]).sort(), [`${prefix}-n-1`, `${prefix}-n-2`]);
    const snapshots = gitiso('snapshots');
    assert.equal(snapshots.code, 0, snapshots.stderr);
    const mine = snapshots.stdout.split('\n').filter((line) => line.endsWith(server.url('cli')));
    assert.equal(mine.length, 1, snapshots.stdout);
    assert.match(mine[0] ?? '', /^gitiso-snapshot:[0-9a-f]{20}\tmain\t[0-9a-f]{12}\t/);
    const removed = gitiso('rm', `${prefix}-n-1`, `${prefix}-n-2`);
    assert.equal(removed.code, 0, removed.stderr);
  });

  it('rm removes the agent and leaves no container with its label', async () => {
    const removed = gitiso('rm', agentId);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await engine.listContainers(`${LABEL.agent}=${agentId}`), []);
    const again = gitiso('rm', agentId);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no agent named/);
  });
});
