import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { asError, InvalidInputError, PoolError } from '../errors';
import { gitFailure } from './gitFailure';
import { hostGit } from './hostGit';
import { parseLsTree } from '../setup/repoSetup';
import { redactCredentials, silentLogger, type Logger } from '../logger';

export interface ResolvedBase {
  readonly branch: string;
  readonly commit: string;
}

/**
 * One bare mirror per repository, kept on the host. It is the only place that
 * talks to the remote (with the host's git and credential helpers), so no
 * container needs credentials to be created. Concurrent users of one
 * repository share a single fetch; a fetch younger than `freshForMs` is reused.
 */
export class ObjectPool {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly fetchedAt = new Map<string, number>();

  constructor(readonly root: string, private readonly log: Logger = silentLogger, private readonly freshForMs = 2_000) {}

  /** The mirror's folder for a repository URL: readable, and unique per URL. */
  pathFor(url: string): string {
    const slug = url.replace(/\.git$/, '').split(/[/:]/).filter(Boolean).pop()?.replace(/[^\w.-]/g, '_') ?? 'repo';
    const hash = createHash('sha256').update(url).digest('hex').slice(0, 12);
    return join(this.root, 'pool', `${slug}-${hash}.git`);
  }

  /** Makes the mirror current: clones it the first time, fetches after. */
  sync(url: string): Promise<string> {
    const path = this.pathFor(url);
    const fresh = Date.now() - (this.fetchedAt.get(url) ?? 0) < this.freshForMs;
    if (fresh && existsSync(path)) {
      return Promise.resolve(path);
    }
    let running = this.inFlight.get(url);
    if (!running) {
      running = this.update(url, path).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, running);
    }
    return running.then(() => path);
  }

  /** The branch (the remote's default when none is named) and its commit, from the mirror. */
  async resolve(url: string, branch?: string): Promise<ResolvedBase> {
    const git = this.git(url);
    const name = branch || (await git.raw(['symbolic-ref', '--short', 'HEAD'])).trim();
    try {
      const commit = (await git.raw(['rev-parse', '--verify', '--quiet', `refs/heads/${name}^{commit}`])).trim();
      if (commit) {
        return { branch: name, commit };
      }
    } catch {
      // reported below
    }
    throw new PoolError(`branch '${name}' does not exist in ${redactCredentials(url)}`);
  }

  /**
   * Writes a bundle of `commit` and its history (only what `exclude` lacks, when
   * given), for a container to fetch from. Returns the ref that names the tip in it.
   */
  async bundle(url: string, commit: string, file: string, exclude?: string): Promise<string> {
    // A bundle names its tip by a ref: a throw-away one in the mirror, unique per call.
    const ref = `refs/gitiso/bundle/${commit}-${randomBytes(4).toString('hex')}`;
    const git = this.git(url);
    await git.raw(['update-ref', ref, commit]);
    try {
      await git.raw(['bundle', 'create', '--quiet', file, ref, ...(exclude ? [`^${exclude}`] : [])]);
      return ref;
    } finally {
      await git.raw(['update-ref', '-d', ref]).catch(() => undefined);
    }
  }

  /** What the mirror knows already, without fetching: undefined when there is no mirror yet or it lacks the branch. */
  async resolveKnown(url: string, branch?: string): Promise<ResolvedBase | undefined> {
    if (!existsSync(join(this.pathFor(url), 'HEAD'))) {
      return undefined;
    }
    return this.resolve(url, branch).catch(() => undefined);
  }

  /** Is `ancestor` in the history of `commit`? */
  async isAncestor(url: string, ancestor: string, commit: string): Promise<boolean> {
    try {
      await this.git(url).raw(['merge-base', '--is-ancestor', ancestor, commit]);
      return true;
    } catch {
      return false;
    }
  }

  /** The files at the root of the commit's tree, with their blob ids (a blob id names the content). */
  async rootFiles(url: string, commit: string): Promise<Map<string, string>> {
    return parseLsTree(await this.git(url).raw(['ls-tree', commit]));
  }

  /** The content of a file at the commit; undefined when it does not exist; an error, before it is read, when it is larger than `maxBytes`. */
  async readFile(url: string, commit: string, path: string, maxBytes = Number.POSITIVE_INFINITY): Promise<string | undefined> {
    const git = this.git(url);
    try {
      // The size first: a repository must not make the host read a huge blob.
      const size = Number((await git.raw(['cat-file', '-s', `${commit}:${path}`])).trim());
      if (size > maxBytes) {
        throw new InvalidInputError(`${path} at ${commit.slice(0, 12)} is ${size} bytes, more than the ${maxBytes} gitiso reads: make it smaller`);
      }
      return await git.raw(['show', `${commit}:${path}`]);
    } catch (error) {
      if (error instanceof InvalidInputError) {
        throw error;
      }
      return undefined;
    }
  }

  private git(url: string): SimpleGit {
    return hostGit(this.pathFor(url));
  }

  private async update(url: string, path: string): Promise<void> {
    const started = Date.now();
    try {
      if (!existsSync(join(path, 'HEAD'))) {
        mkdirSync(join(this.root, 'pool'), { recursive: true });
        rmSync(path, { recursive: true, force: true });
        await hostGit().mirror(url, path);
        // Nothing may be collected while agents and snapshots borrow from the pool.
        const git = hostGit(path);
        await git.addConfig('gc.auto', '0');
        await git.addConfig('core.logAllRefUpdates', 'false');
        this.log.info(`pool: mirrored ${redactCredentials(url)} in ${Date.now() - started} ms`);
      } else {
        await hostGit(path).fetch(['--quiet', 'origin']);
        this.log.debug(`pool: fetched ${redactCredentials(url)} in ${Date.now() - started} ms`);
      }
      this.fetchedAt.set(url, Date.now());
    } catch (error) {
      throw new PoolError(`could not fetch ${redactCredentials(url)}: ${gitFailure(asError(error).message)}`, { cause: error });
    }
  }
}
