import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SimpleGit } from 'simple-git';
import type { Agent } from '../agent';
import type { AgentExec } from '../agentExec';
import type { AgentService } from '../agentService';
import { asError, BringHomeError, describeCause, isCancellation, TooLargeError } from '../errors';
import { gitFailure } from '../git/gitFailure';
import { hostGit } from '../git/nonInteractiveGit';
import type { ObjectPool } from '../git/objectPool';
import { silentLogger, type Logger } from '../logger';
import { validateBranchName } from '../names';
import { makeOwnedTempDir } from '../tempDir';
import { exportWork, type ExportResult } from './agentExport';
import { checkedCommit, OBJECT_ID } from '../git/objectId';
import { parseChangedFiles } from './changedFiles';
import { isAncestor } from '../git/ancestry';
import { commitOf, fetchBundle, hasCommits, readBundleHeader, workRefs } from './poolRefs';
import { pushFromHost } from './hostPush';
import { ensureWorkRepo } from './workRepo';
import type { AgentWork, ChangedFile, PushOutcome } from './roundTripTypes';

/** The most an agent may send the host in one bring-home, unless CoreOptions say otherwise. */
export const DEFAULT_MAX_BUNDLE_BYTES = 1024 ** 3;

export interface RoundTripOptions {
  readonly exec: AgentExec;
  readonly agents: AgentService;
  readonly pool: ObjectPool;
  readonly log?: Logger;
  readonly maxBundleBytes?: number;
}

export interface PushOptions {
  /** The branch on the remote; the agent's session branch when absent. */
  readonly to?: string;
  /** Overwrite the remote's branch, but only if it is where the pool last saw it. */
  readonly forceWithLease?: boolean;
  readonly signal?: AbortSignal;
  /** git's progress lines, as they come. */
  readonly onProgress?: (line: string) => void;
}

/** Where to read a file from: an agent's work, or any mirror by its path. */
export interface FileAt {
  readonly poolPath: string;
  readonly commit: string;
  readonly path: string;
  readonly maxBytes: number;
}

/**
 * An agent's work comes home through the host: its session branch and its
 * uncommitted files come out of the container as a bundle (one command on its
 * channel), and go into the host's work repository under `refs/gitiso/<id>/`
 * (beside the pool's mirror, borrowing its objects: workRepo.ts). From there
 * the host reads the changes, pushes with its own credentials, and hands them
 * to the user's repository (workspaceGit.ts). The agent is untrusted: only
 * its own two refs come in, whatever the bundle says; its size is bounded; the
 * host only reads objects it checks (fsck), and runs nothing of the agent's.
 */
export class RoundTrip {
  private readonly log: Logger;
  private readonly maxBundleBytes: number;

  constructor(private readonly options: RoundTripOptions) {
    this.log = options.log ?? silentLogger;
    this.maxBundleBytes = options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  }

  /** Brings the agent's session branch and working tree into the pool; the agent's files and index are left as they are. */
  async bringHome(id: string, options: { readonly signal?: AbortSignal } = {}): Promise<AgentWork> {
    return this.bringHomeOf(await this.options.agents.get(id), options.signal);
  }

  private async bringHomeOf(agent: Agent, signal: AbortSignal | undefined): Promise<AgentWork> {
    const started = Date.now();
    const { id } = agent;
    const mirror = await hostGit({ baseDir: await this.mirrorOf(agent.repoUrl, signal), signal });
    const poolPath = await ensureWorkRepo(this.options.pool, agent.repoUrl);
    const git = await hostGit({ baseDir: poolPath, signal });
    const refs = workRefs(id);
    const baseRef = agent.baseBranch ? `refs/heads/${agent.baseBranch}` : 'HEAD';
    // What the host has: the base branch's tip in the mirror, this agent's refs of an earlier bring-home in the work repository.
    const [baseTip, before] = await Promise.all([commitOf(mirror, baseRef), readRefs(git, [refs.head, refs.worktree, refs.base])]);
    const exclude = [...new Set([agent.baseCommit, baseTip, before.get(refs.head), before.get(refs.worktree)].filter((commit): commit is string => commit !== undefined && OBJECT_ID.test(commit)))];

    const scratch = makeOwnedTempDir('bundle');
    try {
      const file = join(scratch, 'work.bundle');
      // Unique per call: two bring-homes of one agent at once must not share it.
      const tempRef = `refs/gitiso-export/${randomBytes(6).toString('hex')}`;
      const branchRef = `refs/heads/${agent.sessionBranch}`;
      const request = { file, tempRef, signal };
      let sent = await this.export(agent, { ...request, exclude });
      let fetched = await this.fetchSent(git, { id, file, sent, refspecs: [[branchRef, refs.head], [tempRef, refs.worktree]] });
      if (fetched === 'missing-prerequisites') {
        // The pool lacks what the bundle builds on (a commit thought known is gone): all of it, then.
        this.log.debug(`round trip: the pool lacks the prerequisites of '${id}''s bundle; asking for all of it`);
        sent = await this.export(agent, { ...request, exclude: [] });
        fetched = await this.fetchSent(git, { id, file, sent, refspecs: [[branchRef, refs.head], [tempRef, refs.worktree]] });
      }
      const got = fetched === 'missing-prerequisites' ? new Map<string, string>() : fetched;
      const head = got.get(branchRef) ?? (await this.believe(git, { ref: refs.head, commit: sent.head, known: exclude, current: before.get(refs.head) }));
      const worktree =
        got.get(tempRef) ??
        (sent.worktree === head ? await this.pointAt(git, refs.worktree, head, before.get(refs.worktree)) : await this.believe(git, { ref: refs.worktree, commit: sent.worktree, known: exclude, current: before.get(refs.worktree) }));
      const base = (baseTip && (await mergeBase(git, head, baseTip))) || agent.baseCommit || baseTip || head;
      await this.pointAt(git, refs.base, base, before.get(refs.base));
      this.log.info(`round trip: brought '${id}' home (${sent.bytes} bytes) in ${Date.now() - started} ms`);
      return { id, repoUrl: agent.repoUrl, poolPath, base, head, worktree, bytes: sent.bytes };
    } catch (error) {
      if (isCancellation(error) || error instanceof TooLargeError || error instanceof BringHomeError) {
        throw error;
      }
      throw new BringHomeError(`could not bring agent '${id}''s work to the host: ${describeCause(error)}`, { cause: error });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** The files the agent changed from its base, committed and uncommitted, with their line counts. */
  async changes(work: Pick<AgentWork, 'poolPath' | 'base' | 'worktree'>): Promise<ChangedFile[]> {
    const git = await hostGit({ baseDir: work.poolPath });
    const range = [work.base, work.worktree].map(checkedCommit);
    const diff = ['-c', 'core.quotePath=false', 'diff', '--no-ext-diff', '--no-textconv', '-M', '-z'];
    const [numstat, nameStatus] = await Promise.all([git.raw([...diff, '--numstat', ...range, '--']), git.raw([...diff, '--name-status', ...range, '--'])]);
    return parseChangedFiles(numstat, nameStatus);
  }

  /** A file's content at a commit of a mirror (for a diff's read-only side); undefined when it does not exist there; TooLargeError past `maxBytes`. */
  async readFileAt(at: FileAt): Promise<Buffer | undefined> {
    const git = await hostGit({ baseDir: at.poolPath });
    const object = `${checkedCommit(at.commit)}:${at.path.replace(/^\/+/, '')}`;
    let size: number;
    try {
      size = Number((await git.raw(['cat-file', '-s', object])).trim());
    } catch {
      return undefined;
    }
    if (!(size <= at.maxBytes)) {
      throw new TooLargeError(`${at.path} at ${at.commit.slice(0, 12)}`, at.maxBytes);
    }
    return git.binaryCatFile(['blob', object]);
  }

  /**
   * A cheap reading that changes when the agent's session branch moves or its
   * working tree changes (the tip, plus a checksum of the changed and
   * untracked files' status, sizes and times), for polling. Reads only: git
   * takes no optional locks, so the agent's index is not rewritten.
   */
  async signature(id: string, options: { readonly signal?: AbortSignal } = {}): Promise<string> {
    const agent = await this.options.agents.get(id);
    const script = `export GIT_OPTIONAL_LOCKS=0
git rev-parse --verify --quiet "refs/heads/$1" || echo none
{ git status --porcelain=v1 -z; git ls-files -m -o --exclude-standard -z | xargs -0 -r stat -c '%s %Y %n' 2>/dev/null; } | cksum`;
    const result = await this.options.exec.probe(id, ['sh', '-c', script, 'gitiso-signature', agent.sessionBranch], { signal: options.signal });
    if (result.exitCode !== 0) {
      throw new BringHomeError(`could not read agent '${id}''s state: ${gitFailure(result.stderr)}`);
    }
    return result.stdout.trim().replace(/\s+/g, ' ').slice(0, 200);
  }

  /**
   * Brings the agent's work home, then pushes its session branch from the
   * pool to the agent's repository URL with the host's git and credentials
   * (the agent never pushes, and never sees a credential).
   */
  async push(id: string, options: PushOptions = {}): Promise<PushOutcome> {
    const agent = await this.options.agents.get(id);
    const work = await this.bringHomeOf(agent, options.signal);
    const branch = validateBranchName(options.to ?? agent.sessionBranch);
    const mirror = await hostGit({ baseDir: this.options.pool.pathFor(agent.repoUrl), signal: options.signal });
    // The lease: where the remote's branch was when the mirror last fetched (nowhere, if it did not exist).
    const lease = options.forceWithLease ? ((await commitOf(mirror, `refs/heads/${branch}`)) ?? '') : undefined;
    const outcome = await pushFromHost({
      repoPath: work.poolPath,
      url: agent.repoUrl,
      source: workRefs(id).head,
      target: { branch, commit: work.head, id },
      lease,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    this.log.info(`round trip: push of '${id}': ${outcome.sentence}`);
    return outcome;
  }

  /** The mirror's path, made first when there is none yet (an agent cloned from the remote). */
  private async mirrorOf(repoUrl: string, signal: AbortSignal | undefined): Promise<string> {
    const path = this.options.pool.pathFor(repoUrl);
    return existsSync(join(path, 'HEAD')) ? path : this.options.pool.sync(repoUrl, signal);
  }

  private export(agent: Agent, request: { file: string; tempRef: string; exclude: readonly string[]; signal?: AbortSignal }): Promise<ExportResult> {
    return exportWork(this.options.exec, agent.id, {
      branch: agent.sessionBranch,
      tempRef: request.tempRef,
      exclude: request.exclude,
      file: request.file,
      maxBytes: this.maxBundleBytes,
      signal: request.signal,
    });
  }

  /**
   * Fetches what the agent sent into the pool, through the given refspecs
   * (source in the bundle, destination in the pool) of the refs the bundle
   * holds; returns what each fetched source now is. Nothing sent, nothing
   * fetched. `missing-prerequisites` when the pool lacks what the bundle
   * builds on.
   */
  private async fetchSent(git: SimpleGit, what: { id: string; file: string; sent: ExportResult; refspecs: readonly [string, string][] }): Promise<Map<string, string> | 'missing-prerequisites'> {
    const got = new Map<string, string>();
    if (what.sent.bytes === 0) {
      return got;
    }
    const header = readBundleHeader(what.file);
    const wanted = what.refspecs.filter(([source]) => header.refs.has(source));
    if (wanted.length === 0) {
      return got;
    }
    try {
      await fetchBundle(git, what.file, wanted.map(([source, destination]) => `+${source}:${destination}`));
    } catch (error) {
      if (!(await hasCommits(git, header.prerequisites))) {
        return 'missing-prerequisites';
      }
      throw new BringHomeError(`agent '${what.id}' sent a bundle the host refused: ${gitFailure(asError(error).message)}`, { cause: error });
    }
    // The fetch wrote each destination from the bundle's own header: those are the commits now in the pool.
    for (const [source] of wanted) {
      got.set(source, header.refs.get(source) ?? '');
    }
    return got;
  }

  /**
   * A commit the agent said its ref is at but left out of the bundle (as one
   * the pool has): believed only if it is in the history the pool shared
   * with the agent, so an agent cannot point its refs at another's work.
   */
  private async believe(git: SimpleGit, what: { ref: string; commit: string; known: readonly string[]; current?: string }): Promise<string> {
    if (what.commit !== what.current && !(await isInHistoryOf(git, what.commit, what.known))) {
      throw new BringHomeError(`the agent's bundle does not hold ${what.commit.slice(0, 12)}, nor does the host know it`);
    }
    return this.pointAt(git, what.ref, what.commit, what.current);
  }

  /** Points a ref of the pool at a commit, unless it is there already. */
  private async pointAt(git: SimpleGit, ref: string, commit: string, current: string | undefined): Promise<string> {
    if (current !== commit) {
      await git.raw(['update-ref', ref, commit]);
    }
    return commit;
  }
}

async function mergeBase(git: SimpleGit, a: string, b: string): Promise<string | undefined> {
  const base = (await git.raw(['merge-base', a, b]).catch(() => '')).trim();
  return OBJECT_ID.test(base) ? base : undefined;
}

async function isInHistoryOf(git: SimpleGit, commit: string, tips: readonly string[]): Promise<boolean> {
  for (const tip of tips) {
    if (await isAncestor(git, commit, tip)) {
      return true;
    }
  }
  return false;
}

/** Where each of these refs points (peeled to commits); refs that do not exist are absent. */
async function readRefs(git: SimpleGit, refs: readonly string[]): Promise<Map<string, string>> {
  const listed = await git.raw(['for-each-ref', '--format=%(refname) %(objectname) %(*objectname)', ...refs.filter((ref) => ref.startsWith('refs/'))]);
  const found = new Map<string, string>();
  for (const line of listed.split('\n')) {
    const [name, object, peeled] = line.split(' ');
    const commit = peeled || object;
    if (name && commit && refs.includes(name) && OBJECT_ID.test(commit)) {
      found.set(name, commit);
    }
  }
  return found;
}
