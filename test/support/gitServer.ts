import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Engine } from '../../src/core/docker/engine';
import { ensureNetwork, git, makeTempDir, removeDir, TEST_LABEL } from './testEnv';

/**
 * A real git server for the tests: `git daemon` (pushes enabled) serving bare
 * repositories from a host folder, so the tests can check on the host what
 * agents pushed. It runs on the host's network and listens on the agents'
 * network's gateway only: agents reach it as they reach a real remote,
 * through the host, since containers on their network cannot reach each
 * other; the host reaches it at its own address.
 */
export class GitServer {
  /** Repositories are served under a folder unique to this server, so URLs never repeat across runs (pools and snapshots key on them). */
  readonly namespace = `gitiso-test-${randomBytes(4).toString('hex')}`;

  private constructor(
    private readonly engine: Engine,
    private readonly containerId: string,
    readonly root: string,
    /** `<gateway>:<port>`. */
    readonly address: string,
  ) {}

  static async start(engine: Engine, image: string): Promise<GitServer> {
    const gateway = await ensureNetwork(engine);
    const port = await freePort(gateway);
    const root = makeTempDir('git-server');
    const containerId = await engine.createContainer({
      Image: image,
      Cmd: ['git', 'daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', '--base-path=/srv/git', `--listen=${gateway}`, `--port=${port}`, '/srv/git'],
      Labels: { [TEST_LABEL]: 'git-server' },
      HostConfig: { Init: true, NetworkMode: 'host', Binds: [`${root}:/srv/git`] },
    });
    await engine.startContainer(containerId);
    const server = new GitServer(engine, containerId, root, `${gateway}:${port}`);
    await server.waitUntilListening();
    return server;
  }

  /** git:// URL of a repository, as containers (and this host) reach it. */
  url(name: string): string {
    return `git://${this.address}/${this.namespace}/${name}.git`;
  }

  barePath(name: string): string {
    return join(this.root, this.namespace, `${name}.git`);
  }

  /**
   * Creates a repository with a `main` branch (files: README.md and the given
   * ones) and a `feature` branch one commit ahead; returns their commits.
   */
  createRepo(name: string, files: Record<string, string | Buffer> = {}): { main: string; feature: string } {
    return seedBareRepo(this.barePath(name), files);
  }

  /** The commit a branch points at on the server, or undefined. */
  branchCommit(name: string, branch: string): string | undefined {
    return branchCommitOf(this.barePath(name), branch);
  }

  async stop(): Promise<void> {
    await this.engine.removeContainer(this.containerId);
    removeDir(this.root);
  }

  private async waitUntilListening(): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const probe = await this.engine.exec(this.containerId, ['git', 'ls-remote', `git://${this.address}/none.git`]);
      // "not exported" means the daemon answered; a refused connection means not yet.
      if (!/Connection refused|unable to connect/i.test(probe.stderr)) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('git daemon did not start listening');
  }
}

/**
 * Makes a bare repository at `barePath` with a `main` branch (files: README.md
 * and the given ones) and a `feature` branch one commit ahead; returns their commits.
 */
export function seedBareRepo(barePath: string, files: Record<string, string | Buffer> = {}): { main: string; feature: string } {
  const work = makeTempDir('repo');
  try {
    git(work, 'init', '-q', '-b', 'main');
    writeFileSync(join(work, 'README.md'), `# ${basename(barePath, '.git')}\n`);
    writeFiles(work, files);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'first commit');
    const main = git(work, 'rev-parse', 'HEAD');
    git(work, 'checkout', '-q', '-b', 'feature');
    writeFileSync(join(work, 'feature.txt'), 'feature\n');
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'feature commit');
    const feature = git(work, 'rev-parse', 'HEAD');
    git(work, 'checkout', '-q', 'main');
    mkdirSync(dirname(barePath), { recursive: true });
    git(work, 'clone', '-q', '--bare', work, barePath);
    return { main, feature };
  } finally {
    removeDir(work);
  }
}

/** Adds a commit with `files` on `branch` of the bare repository at `barePath`, as someone pushing to the server would; returns it. */
export function commitToBareRepo(barePath: string, change: { readonly branch: string; readonly files: Record<string, string>; readonly message: string }): string {
  const work = makeTempDir('commit');
  try {
    git(work, 'clone', '-q', '--branch', change.branch, barePath, '.');
    writeFiles(work, change.files);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', change.message);
    git(work, 'push', '-q', 'origin', `HEAD:refs/heads/${change.branch}`);
    return git(work, 'rev-parse', 'HEAD');
  } finally {
    removeDir(work);
  }
}

function writeFiles(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A port free on `address` now (the daemon takes it a moment later; another process could too, rarely). */
export function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, address, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The commit a branch points at in a bare repository on disk, or undefined. */
export function branchCommitOf(barePath: string, branch: string): string | undefined {
  try {
    return git(barePath, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`);
  } catch {
    return undefined;
  }
}
