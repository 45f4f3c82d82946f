import { closeSync, openSync, readSync } from 'node:fs';
import type { SimpleGit } from 'simple-git';
import { hostGit } from '../git/nonInteractiveGit';
import { OBJECT_ID } from '../git/objectId';
import { MAX_BUNDLE_HEADER_BYTES, parseBundleHeader, type BundleHeader } from './bundleHeader';

/** Where an agent's work lives in the pool: `refs/gitiso/<id>/{head,worktree,base}`. */
export function workRefs(id: string): { head: string; worktree: string; base: string; prefix: string } {
  const prefix = `refs/gitiso/${id}/`;
  return { head: `${prefix}head`, worktree: `${prefix}worktree`, base: `${prefix}base`, prefix };
}

/** Reads the header at the start of a bundle file. */
export function readBundleHeader(file: string): BundleHeader {
  const fd = openSync(file, 'r');
  try {
    const start = Buffer.alloc(MAX_BUNDLE_HEADER_BYTES + 2);
    const length = readSync(fd, start, 0, start.length, 0);
    return parseBundleHeader(start.subarray(0, length));
  } finally {
    closeSync(fd);
  }
}

/** Are all these commits in the mirror? (A bundle whose prerequisites are missing cannot be fetched.) */
export async function hasCommits(git: SimpleGit, commits: readonly string[]): Promise<boolean> {
  if (commits.length === 0) {
    return true;
  }
  // One git for all of them; a very long list is rather sent again whole.
  if (commits.length > 500 || !commits.every((commit) => OBJECT_ID.test(commit))) {
    return false;
  }
  try {
    await git.raw(['rev-list', '--no-walk', '--quiet', ...commits, '--']);
    return true;
  } catch {
    return false;
  }
}

/** A commit's id, or undefined when the ref or commit does not exist in the mirror. */
export async function commitOf(git: SimpleGit, rev: string): Promise<string | undefined> {
  try {
    const commit = (await git.raw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])).trim();
    return OBJECT_ID.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Fetches from a bundle into the mirror, only through the refspecs given:
 * whatever else the bundle names never lands (no tags follow either), and
 * every object is checked as it comes in. Nothing of the bundle runs: a
 * bundle holds objects and ref names only.
 */
export async function fetchBundle(git: SimpleGit, file: string, refspecs: readonly string[]): Promise<void> {
  await git.raw(['-c', 'fetch.fsckObjects=true', '-c', 'transfer.fsckObjects=true', 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-auto-gc', '--', file, ...refspecs]);
}

/** Deletes `refs/gitiso/<id>/*` in a mirror; returns how many refs went. */
export async function deleteWorkRefs(poolPath: string, id: string): Promise<number> {
  const git = await hostGit({ baseDir: poolPath });
  const refs = (await git.raw(['for-each-ref', '--format=%(refname)', workRefs(id).prefix])).split('\n').filter(Boolean);
  for (const ref of refs) {
    await git.raw(['update-ref', '-d', ref]);
  }
  return refs.length;
}
