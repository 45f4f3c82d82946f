import type { SimpleGit } from 'simple-git';

/**
 * Is `ancestor` (a full object id) in the history of `commit`? From
 * merge-base's answer, not its exit code: simple-git reports a failure only
 * when git also wrote to stderr, and `merge-base --is-ancestor` writes nothing.
 */
export async function isAncestor(git: SimpleGit, ancestor: string, commit: string): Promise<boolean> {
  const base = await git.raw(['merge-base', '--end-of-options', ancestor, commit]).catch(() => '');
  return base.trim() === ancestor;
}
