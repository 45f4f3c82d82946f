import { WORKSPACE } from '../agent';

/** Where the pool's object files are put in a container before they are moved into its clone. */
export const OBJECTS_STAGING = '/tmp/gitiso-objects';

/** The file put last with the objects: a running container waits for it (see WAIT_FOR_OBJECTS). */
export const OBJECTS_COMPLETE = '.complete';

/** A small file sent with a first agent's objects, before the marker: its base branch, commit and state file, one a line (see baseNote). */
export const OBJECTS_BASE = '.base';

/**
 * The content of OBJECTS_BASE. None of the three can hold a line break (git's
 * ref names refuse control characters; the JSON is written on one line), and
 * the boot reads them with `read -r` as words, never as shell.
 */
export function baseNote(base: { readonly branch: string; readonly commit: string }, stateJson: string): string {
  for (const value of [base.branch, base.commit, stateJson]) {
    if (/[\r\n]/.test(value)) {
      throw new Error(`refusing a line break in an agent's base: ${JSON.stringify(value)}`);
    }
  }
  return `${base.branch}\n${base.commit}\n${stateJson}\n`;
}

/** Shell that waits until the objects staged at "$objects" are all there (they may arrive as the container boots). */
export const WAIT_FOR_OBJECTS = `while [ ! -e "$objects/${OBJECTS_COMPLETE}" ]; do sleep 0.02; done
rm -f "$objects/${OBJECTS_COMPLETE}"`;

/**
 * Shell that makes the clone in /workspace from the pool's own object files
 * (packs with their indexes, loose objects) staged at "$objects" by the
 * archive API: they are moved into place, not indexed or unpacked again (the
 * host made them, and checked them whole when it fetched). Leaves "$branch"
 * checked out at "$commit" with origin set to "$origin". Expects `step` (see
 * buildSteps.ts) and `set -e`. The stat settings keep the index valid once the
 * layer is shared by a snapshot's agents: inode numbers and ctimes differ
 * between containers, content and mtimes do not.
 */
export const CLONE_FROM_OBJECTS = `git init -q "${WORKSPACE}"
cd "${WORKSPACE}"
git config core.checkStat minimal
git config core.trustctime false
git config gc.auto 0
git config core.untrackedCache true
for d in "$objects"/*/; do
  [ -d "$d" ] || continue
  n=\${d%/}; n=\${n##*/}
  mkdir -p ".git/objects/$n"
  mv "$d"* ".git/objects/$n/"
done
rm -rf "$objects"
git update-ref "refs/remotes/origin/$branch" "$commit"
step 'objects in place'
git checkout -q -B "$branch" "$commit"
git remote add origin "$origin"
git config "branch.$branch.remote" origin
git config "branch.$branch.merge" "refs/heads/$branch"
step checkout`;
