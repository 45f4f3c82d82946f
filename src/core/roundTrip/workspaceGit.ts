import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { asError, isCancellation, WorkspaceGitError } from '../errors';
import { gitFailure } from '../git/gitFailure';
import { hostGit } from '../git/nonInteractiveGit';
import { silentLogger, type Logger } from '../logger';
import { makeOwnedTempDir } from '../tempDir';
import { isAncestor } from '../git/ancestry';
import { commitOf, workRefs } from './poolRefs';
import type { RoundTrip } from './roundTrip';
import type { AgentWork, ApplyOutcome, MergeOutcome } from './roundTripTypes';

type Signal = { readonly signal?: AbortSignal };

/** What a fetch into the workspace gave: the agent's work, and the ref that names its branch in the workspace. */
export interface WorkspaceFetch {
  readonly work: AgentWork;
  /** `refs/remotes/gitiso/<id>`. */
  readonly ref: string;
}

/**
 * An agent's work taken into a repository of the user's (VS Code's workspace
 * folder, the CLI's current directory), always from the host's pool, never
 * from a container: the agent's branch as `refs/remotes/gitiso/<id>`, checked
 * out, merged, or applied as uncommitted changes. The user's uncommitted work
 * is never discarded: what would touch it is refused first.
 */
export class WorkspaceGit {
  constructor(
    private readonly roundTrip: RoundTrip,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Brings the agent's work home, then fetches its branch from the pool into `dir`'s repository as `refs/remotes/gitiso/<id>`. */
  async fetchIntoWorkspace(id: string, dir: string, options: Signal = {}): Promise<WorkspaceFetch> {
    const git = await repositoryAt(dir, options.signal);
    const work = await this.roundTrip.bringHome(id, options);
    const ref = `refs/remotes/gitiso/${id}`;
    try {
      await git.raw(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--', work.poolPath, `+${workRefs(id).head}:${ref}`]);
    } catch (error) {
      throw failure(error, `could not fetch agent '${id}''s branch into ${dir}`);
    }
    this.log.info(`round trip: fetched '${id}' into ${dir} as ${ref}`);
    return { work, ref };
  }

  /** A local branch `gitiso/<id>` at the agent's tip, checked out; refused over uncommitted changes, or when that branch has commits the agent's lacks. */
  async checkOut(id: string, dir: string, options: Signal = {}): Promise<{ branch: string; commit: string }> {
    const git = await repositoryAt(dir, options.signal);
    await refuseUncommitted(git, 'check out the agent\'s branch');
    const { work, ref } = await this.fetchIntoWorkspace(id, dir, options);
    const branch = `gitiso/${id}`;
    const existing = await commitOf(git, `refs/heads/${branch}`);
    if (existing && existing !== work.head && !(await isAncestor(git, existing, work.head))) {
      throw new WorkspaceGitError(`your branch ${branch} has commits the agent's lacks, so it was not moved: merge with 'gitiso merge ${id}', or rename or delete your branch first`);
    }
    try {
      await git.raw(['checkout', '--quiet', '--no-track', '-B', branch, ref]);
    } catch (error) {
      throw failure(error, `could not check out ${branch}`);
    }
    return { branch, commit: work.head };
  }

  /** Merges the agent's branch into the current branch; conflicts are left in progress for the user's merge tool. Refused over uncommitted changes. */
  async merge(id: string, dir: string, options: Signal = {}): Promise<MergeOutcome> {
    const git = await repositoryAt(dir, options.signal);
    await refuseUncommitted(git, 'merge');
    const { work, ref } = await this.fetchIntoWorkspace(id, dir, options);
    const before = await commitOf(git, 'HEAD');
    // A merge with conflicts says so on stdout only, which simple-git does not count as a failure: look for them either way.
    const merging = await git.raw(['merge', '--no-edit', '--quiet', ref]).then(
      () => undefined,
      (error: unknown) => error,
    );
    const conflicts = await unmergedFiles(git);
    if (conflicts.length > 0) {
      return { kind: 'conflicts', conflicts };
    }
    if (merging) {
      throw failure(merging, `could not merge agent '${id}''s branch`);
    }
    const after = await commitOf(git, 'HEAD');
    return { kind: after === before ? 'up-to-date' : after === work.head ? 'fast-forward' : 'merged', conflicts: [] };
  }

  /**
   * The agent's changes against its base, committed and uncommitted, applied
   * to the working tree (and index) as uncommitted changes; a file that does
   * not apply cleanly gets a three-way merge, with conflict markers to resolve.
   */
  async apply(id: string, dir: string, options: Signal = {}): Promise<ApplyOutcome> {
    const git = await repositoryAt(dir, options.signal);
    // The fetch brings the base's blobs, which the three-way fallback needs.
    const { work } = await this.fetchIntoWorkspace(id, dir, options);
    const files = (await this.roundTrip.changes(work)).length;
    if (files === 0) {
      return { files: 0, conflicts: [] };
    }
    const scratch = makeOwnedTempDir('delta');
    try {
      const patch = join(scratch, 'work.patch');
      const pool = await hostGit({ baseDir: work.poolPath, signal: options.signal });
      await pool.raw(['diff', '--no-ext-diff', '--no-textconv', '--binary', '--full-index', `--output=${patch}`, work.base, work.worktree, '--']);
      if (readFileSync(patch).length === 0) {
        return { files: 0, conflicts: [] };
      }
      const applying = await git.raw(['apply', '--3way', patch]).then(
        () => undefined,
        (error: unknown) => error,
      );
      const conflicts = await unmergedFiles(git);
      if (applying && conflicts.length === 0) {
        throw failure(applying, `could not apply agent '${id}''s changes`);
      }
      return { files, conflicts };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}

/** Host git in the repository that holds `dir`; a clear error when there is none. */
async function repositoryAt(dir: string, signal: AbortSignal | undefined): Promise<SimpleGit> {
  const git = await hostGit({ baseDir: dir, signal });
  const inside = await git.raw(['rev-parse', '--is-inside-work-tree']).catch(() => '');
  if (inside.trim() !== 'true') {
    throw new WorkspaceGitError(`${dir} is not in a git repository with a working tree: open the repository's folder (or cd into it) first`);
  }
  return git;
}

/** Refuses when tracked files have uncommitted changes (untracked files are the user's and are left alone). */
async function refuseUncommitted(git: SimpleGit, what: string): Promise<void> {
  const status = await git.raw(['status', '--porcelain=v1', '--untracked-files=no', '-z']);
  if (status.length > 0) {
    throw new WorkspaceGitError(`you have uncommitted changes, so gitiso did not ${what}: commit them (or stash them) first`);
  }
}

async function unmergedFiles(git: SimpleGit): Promise<string[]> {
  const listed = await git.raw(['diff', '--name-only', '--diff-filter=U', '-z']).catch(() => '');
  return [...new Set(listed.split('\0').filter(Boolean))];
}


function failure(error: unknown, what: string): Error {
  if (isCancellation(error)) {
    return asError(error);
  }
  return new WorkspaceGitError(`${what}: ${gitFailure(asError(error).message)}`, { cause: error });
}
