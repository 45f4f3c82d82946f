import { closeSync, openSync, writeSync } from 'node:fs';
import type { AgentExec } from '../agentExec';
import { BringHomeError, TooLargeError } from '../errors';
import { gitFailure } from '../git/gitFailure';
import { OBJECT_ID } from '../git/objectId';

/**
 * Run in the agent as `sh -c SCRIPT gitiso-export BRANCH TEMPREF EXCLUDE…`:
 * makes a commit of the working tree (tracked and untracked files, on top of
 * the branch's tip) with a copy of the index, so the agent's own index and
 * files stay as they are; names it with TEMPREF (a bundle names refs, not
 * commits), deleted on exit, unless the tree is clean (then WORKTREE is the
 * tip and only the branch is sent); prints `gitiso-export HEAD WORKTREE` on
 * stderr, then the bundle, without what the EXCLUDE commits hold, on stdout
 * (nothing when there is nothing new). Exclusions the agent lacks are dropped.
 * Every value is a positional argument: none is ever part of the script.
 */
const EXPORT_SCRIPT = `set -eu
branch=$1; ref=$2; shift 2
nl='
'
# One git for the index's path and the tip (every process costs here).
said=$(git rev-parse --git-path index --verify --quiet "refs/heads/$branch^{commit}") || { echo "fatal: the agent has no branch $branch" >&2; exit 3; }
index=\${said%%"$nl"*}; head=\${said#*"$nl"}
# The exclusions the agent has, as ^COMMIT (one git for all; a missing one prints "NAME missing").
exclude=
if [ "$#" -gt 0 ]; then
  for word in $(for commit in "$@"; do printf '%s^{commit}\\n' "$commit"; done | git cat-file --batch-check='^%(objectname)'); do
    case "$word" in ^*) exclude="$exclude $word" ;; esac
  done
fi
copy="$index.gitiso-export.$$"
worktree=$head
cleanup() { rm -f "$copy" "$copy.err"; [ "$worktree" = "$head" ] || git update-ref -d "$ref" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 143' HUP INT TERM
if [ -f "$index" ]; then cp "$index" "$copy"; fi
GIT_INDEX_FILE="$copy" git add -A
tree=$(GIT_INDEX_FILE="$copy" git write-tree)
set -- "refs/heads/$branch"
if [ "$tree" != "$(git rev-parse "$head^{tree}")" ]; then
  worktree=$(echo "gitiso: uncommitted work" | GIT_AUTHOR_NAME=gitiso GIT_AUTHOR_EMAIL=gitiso@localhost GIT_COMMITTER_NAME=gitiso GIT_COMMITTER_EMAIL=gitiso@localhost git commit-tree "$tree" -p "$head")
  git update-ref "$ref" "$worktree"
  set -- "$@" "$ref"
fi
printf 'gitiso-export %s %s\\n' "$head" "$worktree" >&2
# Nothing new makes git refuse the bundle: the host reads an empty stdout as that.
# shellcheck disable=SC2086
git bundle create -q - "$@" $exclude 2>"$copy.err" || grep -q 'empty bundle' "$copy.err" || { cat "$copy.err" >&2; exit 1; }`;

export interface ExportRequest {
  /** The agent's session branch (without refs/heads/). */
  readonly branch: string;
  /** The agent-side ref that names the working tree's commit while the bundle is made. */
  readonly tempRef: string;
  /** Commits the pool has: what the bundle leaves out. */
  readonly exclude: readonly string[];
  /** Where the bundle goes on the host. */
  readonly file: string;
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

/** What the agent said its branch and working tree are, and how many bytes of bundle it sent (0: nothing new). */
export interface ExportResult {
  readonly head: string;
  readonly worktree: string;
  readonly bytes: number;
}

/** `gitiso-export HEAD WORKTREE` from the script's stderr; each must be an object id, or it is not believed. */
export function parseExportLine(stderr: string): { head: string; worktree: string } | undefined {
  const match = /^gitiso-export (\S+) (\S+)$/m.exec(stderr);
  if (!match?.[1] || !match[2] || !OBJECT_ID.test(match[1]) || !OBJECT_ID.test(match[2])) {
    return undefined;
  }
  return { head: match[1], worktree: match[2] };
}

/** What stays in memory of the script's output: its stderr is a few lines, its stdout goes to the file. */
const KEPT_OUTPUT_BYTES = 64 * 1024;

/**
 * Runs the export in the agent (one command on its channel) and streams the
 * bundle into `file`; past `maxBytes` the command is ended and a
 * TooLargeError thrown.
 */
export async function exportWork(exec: AgentExec, id: string, request: ExportRequest): Promise<ExportResult> {
  const stop = new AbortController();
  const signal = request.signal ? AbortSignal.any([request.signal, stop.signal]) : stop.signal;
  const fd = openSync(request.file, 'w', 0o600);
  let bytes = 0;
  let tooLarge = false;
  let result;
  try {
    result = await exec.run(id, ['sh', '-c', EXPORT_SCRIPT, 'gitiso-export', request.branch, request.tempRef, ...request.exclude], {
      signal,
      maxOutputBytes: KEPT_OUTPUT_BYTES,
      onStdout: (chunk) => {
        if (tooLarge) {
          return;
        }
        bytes += chunk.length;
        if (bytes > request.maxBytes) {
          tooLarge = true;
          stop.abort();
          return;
        }
        writeSync(fd, chunk);
      },
    });
  } catch (error) {
    if (tooLarge && !request.signal?.aborted) {
      throw new TooLargeError(`agent '${id}''s work (its commits and uncommitted files, as a bundle)`, request.maxBytes);
    }
    throw error;
  } finally {
    closeSync(fd);
  }
  if (tooLarge) {
    throw new TooLargeError(`agent '${id}''s work (its commits and uncommitted files, as a bundle)`, request.maxBytes);
  }
  if (result.exitCode !== 0) {
    throw new BringHomeError(`could not bring agent '${id}''s work to the host: ${gitFailure(result.stderr)}`);
  }
  const said = parseExportLine(result.stderr);
  if (!said) {
    throw new BringHomeError(`could not bring agent '${id}''s work to the host: the agent did not say which commits it sent`);
  }
  return { ...said, bytes };
}
