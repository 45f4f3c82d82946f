import { LABEL } from '../../src/core/agent';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { abortError } from '../../src/core/base/abort';
import type { ContainerCreateOptions } from '../../src/core/docker/engine';
import type { ExecOptions } from '../../src/core/docker/exec';
import { CancelledError, SnapshotBuildError } from '../../src/core/errors';
import { formatOwner, OWNER_LABEL } from '../../src/core/ownership';
import type { ObjectFile } from '../../src/core/git/poolObjectFiles';
import { BUILDER_DEADLINE_LABEL } from '../../src/core/snapshot/builderLifetime';
import { BUILDER_PREFIX, SNAPSHOT_LABEL, snapshotKey, SnapshotStore } from '../../src/core/snapshot/snapshotStore';
import { MemoryEngine } from '../support/memoryEngine';

const REPO = 'git://server/repo.git';
const BASE = { branch: 'main', commit: 'c1' };
const LIMITS = { memoryBytes: 300 * 1024 ** 2, cpus: 1.5, pids: 99 };
const KEY = snapshotKey({ repoUrl: REPO, baseImageId: 'sha256:img', commit: 'c1', setupKey: '' });
const INSTALL_KEY = snapshotKey({ repoUrl: REPO, baseImageId: 'sha256:img', commit: 'c1', setupKey: 'k' });

const pool = {
  objectFiles: async (): Promise<ObjectFile[]> => [],
  isAncestor: async (): Promise<boolean> => false,
};

function store(engine: MemoryEngine, installTimeoutMs = 60_000): SnapshotStore {
  return new SnapshotStore({ engine, pool, network: { resolve: async () => 'gitiso' }, builderLimits: async () => LIMITS, installTimeoutMs });
}

/** The pid of a process that has ended. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid as number;
}

/** A builder of snapshot `key` that another process made. */
async function otherBuilder(engine: MemoryEngine, key: string, owner: string): Promise<string> {
  const now = Date.now();
  const labels = { [SNAPSHOT_LABEL.key]: key, [SNAPSHOT_LABEL.repo]: REPO, [SNAPSHOT_LABEL.created]: new Date(now).toISOString(), [OWNER_LABEL]: owner, [BUILDER_DEADLINE_LABEL]: new Date(now + 3_600_000).toISOString() };
  const id = await engine.createContainer({ name: `${BUILDER_PREFIX}${key}`, Image: 'img', Labels: labels });
  await engine.startContainer(id);
  return id;
}

/** An exec that runs until its signal fires (an install that never ends), as the real one fails then. */
function hangUntilAborted(_argv: readonly string[], options?: ExecOptions): Promise<never> {
  return new Promise((_resolve, reject) => {
    const signal = options?.signal;
    // A real exec's stream keeps the process alive; a timeout signal alone does not.
    const alive = setInterval(() => undefined, 1_000);
    signal?.addEventListener(
      'abort',
      () => {
        clearInterval(alive);
        reject(abortError(signal, 'install'));
      },
      { once: true },
    );
  });
}

const isInstall = (argv: readonly string[]): boolean => argv[2] === 'make deps';

describe('SnapshotStore builds', () => {
  it('take over a builder whose creator has ended instead of waiting for it', async () => {
    const engine = new MemoryEngine();
    const stale = await otherBuilder(engine, KEY, `${deadPid()}@${hostname()}`);
    const started = Date.now();
    const snapshot = await store(engine).ensure({ repoUrl: REPO, baseImage: 'img', base: BASE });
    assert.ok(Date.now() - started < 5_000, 'no long wait');
    assert.equal(snapshot.image, `gitiso-snapshot:${KEY}`);
    assert.ok(engine.removed.includes(stale), 'the abandoned builder was removed');
  });

  it('wait for the builder of a live process and use its image', async () => {
    const engine = new MemoryEngine();
    const other = await otherBuilder(engine, KEY, formatOwner());
    setTimeout(() => {
      void engine.commitContainer(other, 'gitiso-snapshot', KEY).then(() => engine.removeContainer(other));
    }, 400);
    const snapshot = await store(engine).ensure({ repoUrl: REPO, baseImage: 'img', base: BASE });
    assert.equal(snapshot.image, `gitiso-snapshot:${KEY}`);
    assert.equal(engine.execs.length, 0, 'nothing was built here');
  });

  it('give the builder the agents\' limits, a deadline, its owner, and a command that ends with its creator', async () => {
    const engine = new MemoryEngine();
    let spec: ContainerCreateOptions | undefined;
    let heldAtStart = false;
    const create = engine.createContainer.bind(engine);
    engine.createContainer = async (options) => {
      spec = options;
      return create(options);
    };
    const start = engine.startContainer.bind(engine);
    engine.startContainer = async (id) => {
      heldAtStart = engine.held.has(id);
      return start(id);
    };
    await store(engine).ensure({ repoUrl: REPO, baseImage: 'img', base: BASE });
    assert.ok(spec);
    assert.doesNotMatch(JSON.stringify(spec.Cmd), /infinity/);
    assert.deepEqual({ open: spec.OpenStdin, once: spec.StdinOnce, heldAtStart }, { open: true, once: true, heldAtStart: true });
    const host = spec.HostConfig ?? {};
    assert.deepEqual(
      { memory: host.Memory, swap: host.MemorySwap, cpus: host.NanoCpus, pids: host.PidsLimit, autoRemove: host.AutoRemove },
      { memory: LIMITS.memoryBytes, swap: LIMITS.memoryBytes, cpus: 1.5e9, pids: 99, autoRemove: true },
    );
    assert.equal(spec.Labels?.[OWNER_LABEL], formatOwner());
    assert.ok(Date.parse(spec.Labels?.[BUILDER_DEADLINE_LABEL] ?? '') > Date.now());
    assert.equal(engine.containers.size, 0, 'the builder is gone');
    assert.equal(engine.held.size, 0, 'its stdin is let go');
  });

  it('fail with a clear error when the install outlasts its time limit, and remove the builder', async () => {
    const engine = new MemoryEngine();
    engine.onExec = (argv, options) => (isInstall(argv) ? hangUntilAborted(argv, options) : { exitCode: 0, stdout: '', stderr: '' });
    const started = Date.now();
    await assert.rejects(
      store(engine, 1_000).ensure({ repoUrl: REPO, baseImage: 'img', base: BASE, setup: { key: 'k', install: 'make deps' } }),
      (error) => error instanceof SnapshotBuildError && /install 'make deps' did not finish within 1 s: .*installTimeoutSeconds/.test(error.message),
    );
    assert.ok(Date.now() - started < 5_000);
    assert.equal(engine.containers.size, 0, 'the builder (and the install in it) is gone');
    assert.ok(!engine.images.has(`gitiso-snapshot:${INSTALL_KEY}`));
  });

  it('refresh the index after the install within its time limit, and build the snapshot even when that refresh hangs', { timeout: 10_000 }, async () => {
    const engine = new MemoryEngine();
    const isRefresh = (argv: readonly string[]): boolean => argv[0] === 'sh' && /^sleep 1 && git status/.test(argv[2] ?? '');
    // The install planted git config that never returns (a hook of its own): the refresh hangs until its time is up.
    engine.onExec = (argv, options) => (isRefresh(argv) ? hangUntilAborted(argv, options) : { exitCode: 0, stdout: '', stderr: '' });
    const started = Date.now();
    const snapshot = await store(engine, 1_000).ensure({ repoUrl: REPO, baseImage: 'img', base: BASE, setup: { key: 'k', install: 'make deps' } });
    assert.ok(Date.now() - started < 5_000);
    assert.equal(snapshot.image, `gitiso-snapshot:${INSTALL_KEY}`);
    const order = engine.execs.map((e) => (isInstall(e.argv) ? 'install' : isRefresh(e.argv) ? 'refresh' : 'other'));
    assert.deepEqual(order.filter((step) => step !== 'other'), ['install', 'refresh']);
    assert.equal(engine.containers.size, 0, 'the builder is gone');
  });

  it('run the coding agent\'s install after the repository\'s, out of /workspace, on the agents\' network', async () => {
    const engine = new MemoryEngine();
    let network: string | undefined;
    const create = engine.createContainer.bind(engine);
    engine.createContainer = async (options) => ((network = options.HostConfig?.NetworkMode), create(options));
    const tool = { preset: 'mine', command: 'install-my-agent' };
    await store(engine).ensure({ repoUrl: REPO, baseImage: 'img', base: BASE, setup: { key: 'kt', install: 'make deps', tool } });
    const installs = engine.execs.filter((e) => isInstall(e.argv) || (e.argv[2] ?? '').endsWith(tool.command));
    assert.deepEqual(installs.map((e) => [isInstall(e.argv) ? 'repository' : 'tool', e.options?.workdir]), [['repository', '/workspace'], ['tool', '/']]);
    assert.match(installs[1]?.argv[2] ?? '', /command -v tmux/, 'with tmux when the image lacks it');
    assert.equal(network, 'gitiso');
    assert.ok(engine.images.has(`gitiso-snapshot:${snapshotKey({ repoUrl: REPO, baseImageId: 'sha256:img', commit: 'c1', setupKey: 'kt' })}`));
  });

  it('fail the build when the coding agent\'s install fails: no snapshot, no builder, an error that names the preset and the setting', async () => {
    const engine = new MemoryEngine();
    const tool = { preset: 'mine', command: 'install-my-agent' };
    engine.onExec = (argv) => ((argv[2] ?? '').endsWith(tool.command) ? { exitCode: 7, stdout: '', stderr: 'E: no such package\n' } : { exitCode: 0, stdout: '', stderr: '' });
    await assert.rejects(
      store(engine).ensure({ repoUrl: REPO, baseImage: 'img', base: BASE, setup: { key: 'kt', tool } }),
      (error) => error instanceof Error && /coding agent 'mine' could not be installed: 'install-my-agent' exited with 7: E: no such package; .*gitiso\.codingAgents.*'mine'/.test(error.message),
    );
    assert.equal(engine.containers.size, 0, 'the builder is gone');
    assert.equal([...engine.images.keys()].filter((name) => name.startsWith('gitiso-snapshot:')).length, 0, 'no snapshot was kept');
  });

  it('refresh nothing after a build without an install', async () => {
    const engine = new MemoryEngine();
    await store(engine).ensure({ repoUrl: REPO, baseImage: 'img', base: BASE });
    assert.equal(engine.execs.length, 1, 'only the build script ran');
  });

  it('stop the build when its only create is cancelled, but not while another waits', async () => {
    const engine = new MemoryEngine();
    engine.onExec = (argv, options) => (isInstall(argv) ? hangUntilAborted(argv, options) : { exitCode: 0, stdout: '', stderr: '' });
    const snapshots = store(engine);
    const request = { repoUrl: REPO, baseImage: 'img', base: BASE, setup: { key: 'k', install: 'make deps' } };
    const first = new AbortController();
    const second = new AbortController();
    const one = snapshots.ensure({ ...request, signal: first.signal });
    const two = snapshots.ensure({ ...request, signal: second.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    first.abort();
    await assert.rejects(one, CancelledError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(engine.containers.size, 1, 'the build goes on for the other create');
    second.abort();
    await assert.rejects(two, CancelledError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(engine.containers.size, 0, 'the builder went with the last create');
  });

  it('counts a snapshot as used while an agent of its repository and commit lives, even one that made its own clone (the first)', async () => {
    const engine = new MemoryEngine();
    const labels = { [SNAPSHOT_LABEL.key]: KEY, [SNAPSHOT_LABEL.repo]: REPO, [SNAPSHOT_LABEL.baseCommit]: 'c1', [SNAPSHOT_LABEL.created]: new Date().toISOString() };
    engine.images.set(`gitiso-snapshot:${KEY}`, { Id: 'sha256:snap', Labels: labels });
    assert.equal((await store(engine).unused(0)).length, 1, 'no agent: unused');
    await engine.createContainer({ name: 'gitiso-first', Image: 'img', Labels: { [LABEL.agent]: 'first', [LABEL.repo]: REPO, [LABEL.baseCommit]: 'c1' } });
    assert.deepEqual(await store(engine).unused(0), []);
    await engine.createContainer({ name: 'gitiso-other', Image: 'img', Labels: { [LABEL.agent]: 'other', [LABEL.repo]: REPO, [LABEL.baseCommit]: 'c2' } });
    assert.deepEqual(await store(engine).unused(0), [], 'an agent of another commit changes nothing');
  });
});
