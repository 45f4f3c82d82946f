import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentSessions } from '../../src/core/codingAgents/agentSessions';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import type { Engine } from '../../src/core/docker/engine';
import { containerNameFor } from '../../src/core/names';
import { BUILDER_PREFIX, SNAPSHOT_LABEL } from '../../src/core/snapshot/snapshotStore';
import { GitServer } from '../support/gitServer';
import { idPrefix, makeTempDir, removeAgents, removeDir, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

// The bundled CLI, as users run it (built by `npm run build`).
const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

/**
 * The user's preset: its install writes a fake tool into /usr/local/bin, adds
 * a line to a counter, and keeps the environment it saw; the tool writes its
 * arguments into the workspace.
 */
const FAKE_TOOL = {
  name: 'fake-tool',
  command: ['fake-tool'],
  task: ['fake-tool', '{prompt}'],
  install: [
    "echo '#!/bin/sh' > /usr/local/bin/fake-tool",
    "echo 'echo \"fake-tool ran: $*\" > /workspace/TOOL_RAN' >> /usr/local/bin/fake-tool",
    'chmod 755 /usr/local/bin/fake-tool',
    'echo installed >> /opt/gitiso-tool-count',
    'env > /opt/gitiso-tool-env',
  ].join(' && '),
};
const BROKEN_TOOL = { name: 'broken-tool', command: ['broken-tool'], install: 'echo "E: the registry cannot be reached" >&2; exit 9' };

/** What the repository says: it names a preset the user does not have, and tries to give the tool's install itself. */
const ATTACKER_SETUP = JSON.stringify({
  codingAgent: 'evil',
  codingAgents: [{ name: 'evil', command: ['sh'], install: 'touch /pwned-by-repository' }],
  toolInstall: 'touch /pwned-by-repository',
  tool: { install: 'touch /pwned-by-repository' },
});

describe('a coding agent\'s install, once per snapshot', () => {
  let engine: Engine;
  let server: GitServer;
  let core: GitisoCore;
  let folder: string;
  const prefix = idPrefix('tool');
  // Credentials the host's environment holds: nothing of them may reach an install.
  const hostSecrets = { GITISO_TEST_HOST_SECRET: `secret-${randomBytes(12).toString('hex')}`, GITHUB_TOKEN: `ghp_${randomBytes(12).toString('hex')}` };

  function gitiso(env: NodeJS.ProcessEnv, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [CLI, ...args], {
      cwd: folder,
      encoding: 'utf8',
      env: { ...process.env, ...hostSecrets, GITISO_IMAGE: testImage(), GITISO_NETWORK: TEST_NETWORK, GITISO_CODING_AGENTS: JSON.stringify([FAKE_TOOL, BROKEN_TOOL]), ...env },
      timeout: 240_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  const run = async (agent: string, script: string): Promise<{ exitCode: number; stdout: string }> => core.exec.run(agent, ['sh', '-c', script]);
  const imageOf = async (agent: string): Promise<string> => (await engine.inspectContainer(containerNameFor(agent)))?.Config.Image ?? '';
  const snapshotsOfRepo = async (): Promise<string[]> => (await engine.listImages(SNAPSHOT_LABEL.key)).filter((image) => image.Labels?.[SNAPSHOT_LABEL.repo] === server.url('tool')).map((image) => image.Id);

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('tool', { 'README.md': '# tool\n', '.gitiso.json': ATTACKER_SETUP });
    core = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'T', email: 't@example.com' } });
    // The user's folder of the repository: its .gitiso.json is the repository's own, the attacker's.
    folder = makeTempDir('tool-folder');
    writeFileSync(join(folder, '.gitiso.json'), ATTACKER_SETUP);
  });

  after(async () => {
    core?.dispose();
    await removeAgents(engine, prefix);
    await server?.stop();
    removeDir(folder);
  });

  it('a task to 2 agents of a repository never seen installs the tool once, in the one snapshot both start from, and runs it in their sessions', async () => {
    const task = gitiso({}, 'task', 'make it so', '--repo', server.url('tool'), '--agent', 'fake-tool', '--count', '2', '--prefix', `${prefix}-t`);
    assert.equal(task.code, 0, task.stderr);
    assert.equal(task.stdout, `${prefix}-t-1\tfake-tool\tstarted\n${prefix}-t-2\tfake-tool\tstarted\n`);
    const agents = [`${prefix}-t-1`, `${prefix}-t-2`];
    const images = await Promise.all(agents.map(imageOf));
    assert.match(images[0] ?? '', /^gitiso-snapshot:/);
    assert.equal(images[1], images[0], 'both agents start from one snapshot');
    // Installed there, on disk in the image: not in each agent.
    const inImage = execFileSync('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'cat', images[0] ?? '', '/opt/gitiso-tool-count'], { encoding: 'utf8' });
    assert.equal(inImage, 'installed\n');
    const sessions = new AgentSessions(core.exec);
    for (const agent of agents) {
      assert.equal((await run(agent, 'cat /opt/gitiso-tool-count')).stdout, 'installed\n', 'the install ran once, in the snapshot');
      await waitFor(`${agent}'s tool to finish`, async () => (await sessions.state(agent))?.activity === 'finished', 30_000);
      assert.equal((await sessions.state(agent))?.exitCode, 0);
      assert.equal((await run(agent, 'cat /workspace/TOOL_RAN')).stdout, 'fake-tool ran: make it so\n');
      assert.notEqual((await run(agent, 'test -e /pwned-by-repository')).exitCode, 0, 'the repository\'s install for the tool ran');
    }
  });

  it('the install saw no environment of the host: only the image\'s and what a shell sets', async () => {
    const agent = `${prefix}-t-1`;
    const seen = (await run(agent, 'cat /opt/gitiso-tool-env')).stdout;
    for (const secret of Object.values(hostSecrets)) {
      assert.ok(!seen.includes(secret), 'a host credential reached the install');
    }
    const imageEnv = (await engine.inspectImage(testImage()))?.Config.Env ?? [];
    // The image's, the engine's (PATH when the image sets none, HOSTNAME, HOME) and the shell's own.
    const allowed = new Set([...imageEnv.map((entry) => entry.split('=')[0]), 'PATH', 'HOSTNAME', 'HOME', 'PWD', 'OLDPWD', 'SHLVL', '_']);
    const foreign = (entries: readonly string[]): string[] => entries.filter((line) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(line)).map((line) => line.split('=')[0] as string).filter((name) => !allowed.has(name));
    assert.match(seen, /^PATH=/m, seen);
    assert.deepEqual(foreign(seen.split('\n')), [], `variables the builder got from elsewhere:\n${seen}`);
    // Nor does the snapshot carry any.
    const snapshotEnv = (await engine.inspectImage(await imageOf(agent)))?.Config.Env ?? [];
    assert.deepEqual(foreign(snapshotEnv), []);
    for (const secret of Object.values(hostSecrets)) {
      assert.ok(!snapshotEnv.join('\n').includes(secret));
    }
  });

  it('an agent created without the preset has no tool: it starts from the repository\'s own snapshot', async () => {
    const agent = `${prefix}-plain`;
    const created = gitiso({}, 'create', agent, '--repo', server.url('tool'));
    assert.equal(created.code, 0, created.stderr);
    assert.notEqual(await imageOf(agent), await imageOf(`${prefix}-t-1`));
    assert.notEqual((await run(agent, 'command -v fake-tool')).exitCode, 0, 'the tool is there');
    assert.notEqual((await run(agent, 'test -e /opt/gitiso-tool-count')).exitCode, 0);
  });

  it('the repository\'s .gitiso.json only names a preset: one the user lacks is not run, and nothing is made', async () => {
    const before = await snapshotsOfRepo();
    const task = gitiso({ GITISO_CODING_AGENT: '' }, 'task', 'anything', '--repo', server.url('tool'), '--prefix', `${prefix}-evil`);
    assert.notEqual(task.code, 0);
    assert.match(task.stderr, /no coding agent named 'evil'/);
    assert.deepEqual((await core.agents.list()).filter((agent) => agent.id.startsWith(`${prefix}-evil`)), []);
    assert.deepEqual(await snapshotsOfRepo(), before);
  });

  it('a failed install fails the task\'s creates with what failed and which setting to fix, and leaves nothing', async () => {
    const before = await snapshotsOfRepo();
    const task = gitiso({}, 'task', 'anything', '--repo', server.url('tool'), '--agent', 'broken-tool', '--count', '2', '--prefix', `${prefix}-broken`);
    assert.equal(task.code, 1, task.stderr);
    for (const n of [1, 2]) {
      assert.match(task.stderr, new RegExp(`^gitiso: ${prefix}-broken-${n}: the coding agent 'broken-tool' could not be installed: .*exited with 9: E: the registry cannot be reached; fix its "install" in gitiso\\.codingAgents \\(the CLI: GITISO_CODING_AGENTS\\) under the name 'broken-tool'`, 'm'));
    }
    assert.deepEqual((await core.agents.list()).filter((agent) => agent.id.startsWith(`${prefix}-broken`)), []);
    assert.deepEqual(await snapshotsOfRepo(), before, 'no snapshot of the failed install is kept');
    await waitFor('the builder to go', async () => (await engine.listContainers()).every((c) => !(c.Names ?? []).some((name) => name.startsWith(`/${BUILDER_PREFIX}`)) || c.Labels?.[SNAPSHOT_LABEL.repo] !== server.url('tool')), 30_000);
  });
});
