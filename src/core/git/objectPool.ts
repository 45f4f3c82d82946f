import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { InFlight } from '../base/inFlight';
import { SharedTasks } from '../base/sharedTask';
import { asError, InvalidInputError, isCancellation, PoolError } from '../errors';
import { isAncestor } from './ancestry';
import { gitFailure } from './gitFailure';
import { hostGit } from './nonInteractiveGit';
import { PoolLock } from './poolLock';
import { listObjectFiles, type ObjectFile } from './poolObjectFiles';
import { parseLsTree } from '../setup/repoSetup';
import { redactCredentials, silentLogger, type Logger } from '../logger';
import { abortError } from '../base/abort';
import { noTimings, timeStep, type StepTimings } from '../base/stepTimings';

/** Touched in a mirror after each fetch: how a process that waited for the lock knows another fetched meanwhile. */
const SYNCED_MARKER = 'gitiso-synced';
/** How long a create waits for another process's fetch of the same repository. */
const LOCK_WAIT_MS = 15 * 60_000;
/** First clones are made under this prefix (with the owner's pid), then renamed into place. */
export const CLONE_TEMP_PREFIX = '.clone-';

export interface ResolvedBase {
  readonly branch: string;
  readonly commit: string;
}

/**
 * One bare mirror per repository, kept on the host. It is the only place that
 * talks to the remote (with the host's git and credential helpers, never a
 * prompt), so no container needs credentials to be created. Concurrent users
 * of one repository share a single fetch; a fetch younger than `freshForMs` is
 * reused. Processes take turns through a lock file per mirror.
 */
export class ObjectPool {
  private readonly inFlight = new SharedTasks<void>();
  private readonly fetchedAt = new Map<string, number>();
  /** Fetches finished by this process: a read shared in flight is one begun after the same fetch. */
  private fetches = 0;
  /** Concurrent creates of one repository ask the same questions at once: one host git each, not one per create. */
  private readonly resolving = new InFlight<ResolvedBase>();
  private readonly listingRoot = new InFlight<Map<string, string>>();
  private readonly reading = new InFlight<string | undefined>();

  constructor(
    readonly root: string,
    private readonly log: Logger = silentLogger,
    private readonly freshForMs = 2_000,
    /** Told how long each clone, fetch and bundle took. */
    private readonly timings: StepTimings = noTimings,
  ) {}

  /** The mirror's folder for a repository URL: readable, and unique per URL. */
  pathFor(url: string): string {
    const slug = url.replace(/\.git$/, '').split(/[/:]/).filter(Boolean).pop()?.replace(/[^\w.-]/g, '_') ?? 'repo';
    const hash = createHash('sha256').update(url).digest('hex').slice(0, 12);
    return join(this.root, 'pool', `${slug}-${hash}.git`);
  }

  /** The lock file of a mirror (beside it, not in it: the first clone renames the mirror into place). */
  lockPathFor(url: string): string {
    return this.pathFor(url).replace(/\.git$/, '.lock');
  }

  /** Makes the mirror current: clones it the first time, fetches after. `signal` stops the git of a fetch no other caller waits for. */
  sync(url: string, signal?: AbortSignal): Promise<string> {
    const path = this.pathFor(url);
    const fresh = Date.now() - (this.fetchedAt.get(url) ?? 0) < this.freshForMs;
    if (fresh && existsSync(path)) {
      return Promise.resolve(path);
    }
    const what = `fetch of ${redactCredentials(url)}`;
    return this.inFlight.run({ key: url, what, signal }, (shared) => this.update(url, path, shared)).then(() => path);
  }

  /** The branch (the remote's default when none is named) and its commit, from the mirror. */
  resolve(url: string, branch?: string): Promise<ResolvedBase> {
    return this.resolving.share(`${this.fetches}\0${url}\0${branch ?? ''}`, () => this.resolveNow(url, branch));
  }

  private async resolveNow(url: string, branch?: string): Promise<ResolvedBase> {
    const git = await this.git(url);
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
    const git = await this.git(url);
    await git.raw(['update-ref', ref, commit]);
    try {
      await git.raw(['bundle', 'create', '--quiet', file, ref, ...(exclude ? [`^${exclude}`] : [])]);
      return ref;
    } finally {
      await git.raw(['update-ref', '-d', ref]).catch(() => undefined);
    }
  }

  /**
   * The mirror's object files (packs with their indexes, loose objects), to
   * send into a snapshot's builder as they are: see poolObjectFiles.ts.
   */
  async objectFiles(url: string): Promise<ObjectFile[]> {
    return listObjectFiles(join(this.pathFor(url), 'objects'));
  }

  /** What the mirror knows already, without fetching: undefined when there is no mirror yet or it lacks the branch. */
  async resolveKnown(url: string, branch?: string): Promise<ResolvedBase | undefined> {
    if (!existsSync(join(this.pathFor(url), 'HEAD'))) {
      return undefined;
    }
    return this.resolve(url, branch).catch(() => undefined);
  }

  /** Is `ancestor` (a full object id) in the history of `commit`? */
  async isAncestor(url: string, ancestor: string, commit: string): Promise<boolean> {
    return isAncestor(await this.git(url), ancestor, commit);
  }

  /** The files at the root of the commit's tree, with their blob ids (a blob id names the content). */
  rootFiles(url: string, commit: string): Promise<Map<string, string>> {
    return this.listingRoot.share(`${url}\0${commit}`, async () => parseLsTree(await (await this.git(url)).raw(['ls-tree', commit])));
  }

  /** The content of a file at the commit; undefined when it does not exist; an error, before it is read, when it is larger than `maxBytes`. */
  readFile(url: string, commit: string, path: string, maxBytes = Number.POSITIVE_INFINITY): Promise<string | undefined> {
    return this.reading.share(`${url}\0${commit}\0${path}\0${maxBytes}`, () => this.readFileNow(url, commit, path, maxBytes));
  }

  private async readFileNow(url: string, commit: string, path: string, maxBytes: number): Promise<string | undefined> {
    const git = await this.git(url);
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

  private git(url: string, signal?: AbortSignal): Promise<SimpleGit> {
    return hostGit({ baseDir: this.pathFor(url), signal });
  }

  /** Clones or fetches under the mirror's lock; skipped when another process synced it while this one waited. */
  private async update(url: string, path: string, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    const what = `fetch of ${redactCredentials(url)}`;
    mkdirSync(join(this.root, 'pool'), { recursive: true });
    try {
      const lock = await PoolLock.acquire(this.lockPathFor(url), { signal, maxWaitMs: LOCK_WAIT_MS, what });
      try {
        if (syncedSince(path, started)) {
          this.log.debug(`pool: ${redactCredentials(url)} was fetched by another process meanwhile`);
        } else if (!existsSync(join(path, 'HEAD'))) {
          await timeStep(this.timings, 'pool clone', () => this.cloneMirror(url, path, signal));
          this.log.info(`pool: mirrored ${redactCredentials(url)} in ${Date.now() - started} ms`);
        } else {
          await timeStep(this.timings, 'pool fetch', () => this.fetchMirror(url, path, signal));
          this.log.debug(`pool: fetched ${redactCredentials(url)} in ${Date.now() - started} ms`);
        }
        writeFileSync(join(path, SYNCED_MARKER), '');
      } finally {
        lock.release();
        // Reads begun from now on see what this fetch brought.
        this.fetches++;
      }
      this.fetchedAt.set(url, Date.now());
    } catch (error) {
      if (signal.aborted) {
        throw abortError(signal, what);
      }
      if (isCancellation(error) || error instanceof PoolError) {
        throw error;
      }
      throw new PoolError(`could not fetch ${redactCredentials(url)}: ${gitFailure(asError(error).message)}`, { cause: error });
    }
  }

  /** The first clone, in a folder of its own, renamed into place once whole: a crash leaves no half mirror where one is looked for. */
  private async cloneMirror(url: string, path: string, signal: AbortSignal): Promise<void> {
    const temp = join(this.root, 'pool', `${CLONE_TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}.git`);
    try {
      await (await hostGit({ signal })).raw(['clone', '--mirror', '--quiet', '--', url, temp]);
      const git = await hostGit({ baseDir: temp, signal });
      // Nothing may be collected while agents and snapshots borrow from the pool.
      await git.addConfig('gc.auto', '0');
      await git.addConfig('core.logAllRefUpdates', 'false');
      // A folder without HEAD is a leftover of an older version's crash.
      rmSync(path, { recursive: true, force: true });
      renameSync(temp, path);
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  }

  /**
   * Fetches, and follows the remote's default branch: a mirror's HEAD is set
   * by the clone only, so it is read again (ls-remote --symref, alongside the
   * fetch) and moved when the remote's moved.
   */
  private async fetchMirror(url: string, path: string, signal: AbortSignal): Promise<void> {
    const git = await hostGit({ baseDir: path, signal });
    const [, head] = await Promise.all([git.fetch(['--quiet', 'origin']), git.raw(['ls-remote', '--symref', 'origin', 'HEAD']).catch(() => '')]);
    const branch = /^ref: (refs\/heads\/\S+)\s+HEAD$/m.exec(head)?.[1];
    if (!branch) {
      return;
    }
    const current = (await git.raw(['symbolic-ref', '-q', 'HEAD']).catch(() => '')).trim();
    const exists = await git.raw(['rev-parse', '--verify', '--quiet', `${branch}^{commit}`]).then(
      () => true,
      () => false,
    );
    if (branch !== current && exists) {
      await git.raw(['symbolic-ref', 'HEAD', branch]);
      this.log.info(`pool: the default branch of ${redactCredentials(url)} is now ${branch.slice('refs/heads/'.length)}`);
    }
  }
}

/** Whether the mirror was synced (by any process) after `since`. */
function syncedSince(path: string, since: number): boolean {
  try {
    return statSync(join(path, SYNCED_MARKER)).mtimeMs >= since;
  } catch {
    return false;
  }
}
