/**
 * The round trip's shapes: what an agent's work looks like once it is on the
 * host, and what the host did with it. The core (`roundTrip.ts`) fills them;
 * the VS Code layer and the CLI only read them.
 */

/** An agent's work, fetched into the host's pool under `refs/gitiso/<id>/`. */
export interface AgentWork {
  readonly id: string;
  readonly repoUrl: string;
  /**
   * The host repository that now holds the agent's objects and refs: a bare
   * repository beside the pool's mirror that borrows its objects (never the
   * mirror itself, which the pool strategy mounts into agents).
   */
  readonly poolPath: string;
  /** What the changes are measured against: the merge base of `head` and the pool's base branch (else the agent's base commit). */
  readonly base: string;
  /** The tip of the agent's session branch (`refs/gitiso/<id>/head`). */
  readonly head: string;
  /** `head` plus the agent's uncommitted work, tracked and untracked (`refs/gitiso/<id>/worktree`); equal to `head` when the working tree is clean. */
  readonly worktree: string;
  /** How many bytes came out of the agent. */
  readonly bytes: number;
}

export type ChangeStatus = 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'typechange';

/** One file an agent changed, from `base` to `worktree`. */
export interface ChangedFile {
  readonly path: string;
  /** Set for renames and copies: the path at `base`. */
  readonly oldPath?: string;
  readonly status: ChangeStatus;
  /** Lines added and removed; undefined for binary files. */
  readonly added?: number;
  readonly removed?: number;
}

/** The remote's answer to a push from the host, in one sentence for people. */
export interface PushOutcome {
  readonly kind: 'created' | 'updated' | 'forced' | 'up-to-date' | 'rejected';
  /** The branch on the remote. */
  readonly branch: string;
  readonly commit: string;
  readonly sentence: string;
}

/** What a merge into the user's workspace did. */
export interface MergeOutcome {
  readonly kind: 'fast-forward' | 'merged' | 'up-to-date' | 'conflicts';
  /** Files with conflicts, relative to the workspace's root. */
  readonly conflicts: readonly string[];
}

/** What applying an agent's changes to the user's working tree did. */
export interface ApplyOutcome {
  readonly files: number;
  /** Files that needed the three-way fallback and have conflicts. */
  readonly conflicts: readonly string[];
}
