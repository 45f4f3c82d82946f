import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerInfo, Engine } from '../../src/core/docker/engine';
import { ObjectPool } from '../../src/core/git/objectPool';
import { BUILDER_PREFIX, SNAPSHOT_LABEL } from '../../src/core/snapshot/snapshotStore';
import { GitServer } from '../support/gitServer';
import { SlowRelay } from '../support/slowRelay';
import { git, idPrefix, makeTempDir, removeAgents, removeDir, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

// The bundled CLI, as users run it (built by `npm run build`).
const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
// The tests' repositories ask for installs: the user allows them (--trust-setup), as consent requires.
const LIMITS = ['--memory', '256m', '--cpus', '1', '--trust-setup'];

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

interface Running {
  readonly pid: number;
  stderr(): string;
  kill(): void;
  readonly done: Promise<Finished>;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Crashes and hostile repositories: `kill -9` of a CLI in the middle of a
 * create, two CLIs on a new repository at once, installs that fork or eat
 * memory without end. Each CLI gets its own pool (GITISO_HOME) and temporary
 * folder (TMPDIR), so what it leaves there is its own to check.
 */
describe('faults', () => {
  let engine: Engine;
  let server: GitServer;
  let relay: SlowRelay;
  const prefix = idPrefix('fault');
  const id = (name: string): string => `${prefix}-${name}`;
  const home = makeTempDir('fault-home');
  const tmp = makeTempDir('fault-tmp');
  const urls: string[] = [];

  function start(args: readonly string[], timeoutMs = 120_000): Running {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, GITISO_IMAGE: testImage(), GITISO_NETWORK: TEST_NETWORK, GITISO_HOME: home, TMPDIR: tmp },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = new Promise<Finished>((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      }),
    );
    return { pid: child.pid as number, stderr: () => stderr, kill: () => child.kill('SIGKILL'), done };
  }

  const gitiso = (...args: string[]): Promise<Finished> => start(args).done;

  function repo(name: string, files: Record<string, string> = {}): string {
    server.createRepo(name, files);
    const url = server.url(name);
    urls.push(url);
    return url;
  }

  async function builderOf(url: string): Promise<ContainerInfo | undefined> {
    const containers = await engine.listContainers(`${SNAPSHOT_LABEL.repo}=${url}`);
    return containers.find((c) => c.Names.some((name) => name.startsWith(`/${BUILDER_PREFIX}`)));
  }

  async function runningBuilder(url: string): Promise<ContainerInfo> {
    let found: ContainerInfo | undefined;
    await waitFor('the snapshot builder', async () => (found = await builderOf(url))?.State === 'running', 60_000);
    return found as ContainerInfo;
  }

  async function leftovers(url: string): Promise<unknown[]> {
    const doctor = await gitiso('doctor', '--repo', url, '--json');
    assert.equal(doctor.code, 0, doctor.stderr);
    return JSON.parse(doctor.stdout) as unknown[];
  }

  /** Stops a test whose builder would run a hostile install without limits (the code before the fix): nothing may fork the shared host. */
  async function requireLimits(builder: ContainerInfo, running: Running, limits: { memoryBytes: number; pids?: number }): Promise<void> {
    const info = await engine.inspectContainer(builder.Id);
    const held = info?.HostConfig.Memory === limits.memoryBytes && (limits.pids === undefined || info.HostConfig.PidsLimit === limits.pids);
    if (!held) {
      await engine.removeContainer(builder.Id);
      running.kill();
      assert.fail(`the builder runs the install without limits (memory ${info?.HostConfig.Memory}, pids ${info?.HostConfig.PidsLimit})`);
    }
  }

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    relay = await SlowRelay.start(engine, testImage(), server.address);
  });

  after(async () => {
    await removeAgents(engine, prefix);
    for (const url of urls) {
      const builder = await builderOf(url);
      if (builder) {
        await engine.removeContainer(builder.Id);
      }
    }
    const images = await engine.listImages(SNAPSHOT_LABEL.key);
    await Promise.all(images.filter((image) => urls.includes(image.Labels?.[SNAPSHOT_LABEL.repo] ?? '')).map((image) => engine.removeImage(image.Id).catch(() => undefined)));
    await relay?.stop();
    await server?.stop();
    removeDir(home);
    removeDir(tmp);
  });

  it('kill -9 while the snapshot builds: the builder ends with its creator; the next create of the repository succeeds at once', async (t) => {
    // The install waits only inside this window: the killed build's runs long, the next one's does not.
    const windowEnd = Math.ceil(Date.now() / 1000) + 25;
    const url = repo('build-kill', { '.gitiso.json': JSON.stringify({ install: `if [ "$(date +%s)" -lt ${windowEnd} ]; then sleep 300; fi` }) });
    const first = start(['create', id('b1'), '--repo', url, ...LIMITS]);
    const builder = await runningBuilder(url);
    await waitFor('the install to run', async () => (await engine.exec(builder.Id, ['sh', '-c', 'ps -eo args | grep -q "^[s]leep 300"'])).exitCode === 0, 30_000);
    assert.match(first.stderr(), new RegExp(`${id('b1')}: snapshot: `));
    first.kill();
    await first.done;
    const killedAt = Date.now();
    await waitFor('the builder to end with its creator', async () => !(await engine.inspectContainer(builder.Id)), 15_000);
    t.diagnostic(`builder gone ${Date.now() - killedAt} ms after the kill`);

    await delay(Math.max(0, windowEnd * 1000 + 500 - Date.now()));
    const second = await gitiso('create', id('b2'), '--repo', url, ...LIMITS);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(second.ms < 60_000, `the create after the kill took ${second.ms} ms`);
    t.diagnostic(`create after the kill: ${second.ms} ms`);
    assert.deepEqual(await leftovers(url), []);
    assert.deepEqual(readdirSync(tmp), [], 'the killed build\'s bundle folder went too');
  });

  it('kill -9 while a remote clone runs: the agent shows as interrupted, the next create cleans it and succeeds', async (t) => {
    server.createRepo('clone-kill');
    const url = relay.url(`${server.namespace}/clone-kill.git`);
    urls.push(url);
    const first = start(['create', id('r1'), '--repo', url, '--strategy', 'remote', ...LIMITS]);
    await waitFor('the clone phase', () => first.stderr().includes(`${id('r1')}: cloning:`), 60_000);
    await delay(500);
    first.kill();
    await first.done;

    const listed = await gitiso('ls', '--json');
    const agent = (JSON.parse(listed.stdout) as { id: string; state: string; reason?: string }[]).find((a) => a.id === id('r1'));
    assert.deepEqual({ state: agent?.state, interrupted: /^its creation was interrupted/.test(agent?.reason ?? '') }, { state: 'error', interrupted: true }, listed.stdout);
    assert.match((await gitiso('ls')).stdout, new RegExp(`^${id('r1')}\\s+error\\s.*its creation was interrupted`, 'm'));
    assert.equal((await leftovers(url)).length, 1, 'doctor finds the half-made agent');

    const second = await gitiso('create', id('r2'), '--repo', url, '--strategy', 'remote', ...LIMITS);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(second.ms < 60_000, `the create after the kill took ${second.ms} ms`);
    t.diagnostic(`create after the kill: ${second.ms} ms`);
    const after = JSON.parse((await gitiso('ls', '--json')).stdout) as { id: string; state: string }[];
    assert.deepEqual(
      after.filter((a) => a.id.startsWith(id('r'))).map((a) => [a.id, a.state]),
      [[id('r2'), 'ready']],
      'the half-made agent was removed before the create',
    );
    assert.deepEqual(await leftovers(url), []);
  });

  it('two CLIs creating on a new repository at the same moment both succeed with one whole mirror', async () => {
    const url = repo('twins');
    const [a, b] = await Promise.all([gitiso('create', id('t1'), '--repo', url, ...LIMITS), gitiso('create', id('t2'), '--repo', url, ...LIMITS)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    git(new ObjectPool(home).pathFor(url), 'fsck', '--strict');
    // Both may start as the repository's first agent (each its own clone); the snapshot built after them, once, is
    // for the agents that follow: unused yet, and no debris. Nothing else may be left.
    const found = (await leftovers(url)) as { kind: string; why: string }[];
    const unusedSnapshots = found.filter((leftover) => leftover.kind === 'snapshot' && leftover.why.startsWith('no agent uses it'));
    assert.deepEqual(found.filter((leftover) => !unusedSnapshots.includes(leftover)), []);
    assert.ok(unusedSnapshots.length <= 1, `${unusedSnapshots.length} snapshots of one commit`);
  });

  it('an install that forks without end: the builder\'s process limit holds, the host answers, the build fails at its time limit', async (t) => {
    // Forks sleepers until it cannot, and goes on trying: it never ends by itself.
    const forker = String.raw`import os, time\nwhile True:\n try:\n  if os.fork() == 0: time.sleep(1000); os._exit(0)\n except OSError: time.sleep(0.01)`;
    const install = `sleep 5; python3 -c 'exec("${forker}")'`;
    const url = repo('forks', { '.gitiso.json': JSON.stringify({ install }) });
    const run = start(['create', id('f1'), '--repo', url, ...LIMITS, '--pids', '64', '--install-timeout', '20']);
    const builder = await runningBuilder(url);
    await requireLimits(builder, run, { memoryBytes: 256 * 1024 ** 2, pids: 64 });
    await delay(9_000);
    const stats = (await engine.statsOnce(builder.Id)) as { pids_stats?: { current?: number } };
    assert.ok((stats.pids_stats?.current ?? 0) <= 64, `the builder runs ${stats.pids_stats?.current} processes`);
    const probe = Date.now();
    assert.equal(spawnSync('true').status, 0);
    await engine.ping();
    assert.ok(Date.now() - probe < 3_000, `the host took ${Date.now() - probe} ms to answer`);

    const result = await run.done;
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.stderr.includes(`install '${install}' did not finish within 20 s`), result.stderr);
    assert.ok(result.ms < 80_000, `the create took ${result.ms} ms`);
    t.diagnostic(`fork bomb: failed after ${result.ms} ms, ${stats.pids_stats?.current} processes at most 64`);
    await waitFor('the builder to go', async () => !(await engine.inspectContainer(builder.Id)), 15_000);
    assert.deepEqual(await leftovers(url), []);
  });

  it('an install that eats memory: the builder\'s memory limit holds, and the install is marked failed with why', async (t) => {
    const url = repo('hog', { '.gitiso.json': JSON.stringify({ install: 'sleep 5; x=0123456789; while true; do x="$x$x"; done' }) });
    const run = start(['create', id('m1'), '--repo', url, ...LIMITS]);
    const builder = await runningBuilder(url);
    await requireLimits(builder, run, { memoryBytes: 256 * 1024 ** 2 });
    const probe = Date.now();
    await delay(7_000);
    await engine.ping();
    assert.ok(Date.now() - probe < 10_000);

    const result = await run.done;
    assert.ok(result.ms < 100_000, `the create took ${result.ms} ms`);
    if (result.code === 0) {
      const agent = (JSON.parse((await gitiso('ls', '--json')).stdout) as { id: string; setupError?: string }[]).find((a) => a.id === id('m1'));
      assert.match(agent?.setupError ?? '', /exited with 137 \(killed: out of memory\?\)/);
      t.diagnostic(`memory hog: agent ready in ${result.ms} ms, setup marked failed: ${agent?.setupError}`);
    } else {
      assert.match(result.stderr, /did not finish within|out of memory/);
      t.diagnostic(`memory hog: create failed in ${result.ms} ms: ${result.stderr.trim().split('\n').pop()}`);
    }
    assert.deepEqual(await leftovers(url), []);
  });
});
