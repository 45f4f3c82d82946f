import type { PushOutcome } from './roundTripTypes';

/** What a push was asked to do: which branch on the remote, to which commit. */
export interface PushTarget {
  readonly branch: string;
  readonly commit: string;
  /** The agent, for the sentence. */
  readonly id: string;
}

/**
 * The remote's answer to one ref of `git push --porcelain`, as a PushOutcome
 * with one sentence for people; undefined when stdout holds no ref line (the
 * push failed before the remote answered: see the stderr).
 * Lines are `FLAG\tFROM:TO\tSUMMARY (REASON)`; the flags are ' ' (fast
 * forward), '+' (forced), '*' (new), '=' (up to date), '!' (rejected).
 */
export function parsePushPorcelain(stdout: string, target: PushTarget): PushOutcome | undefined {
  const line = stdout.split('\n').find((candidate) => /^[ +*=!-]\t[^\t]*:[^\t]*\t/.test(candidate));
  if (!line) {
    return undefined;
  }
  const flag = line.charAt(0);
  const summary = line.split('\t')[2] ?? '';
  const { branch, commit, id } = target;
  const short = commit.slice(0, 12);
  switch (flag) {
    case '*':
      return { kind: 'created', branch, commit, sentence: `created ${branch} on the remote at ${short}` };
    case ' ':
      return { kind: 'updated', branch, commit, sentence: `updated ${branch} on the remote to ${short}` };
    case '+':
      return { kind: 'forced', branch, commit, sentence: `forced ${branch} on the remote to ${short} (it had commits the agent's branch lacks; they are no longer on it)` };
    case '=':
      return { kind: 'up-to-date', branch, commit, sentence: `${branch} on the remote is up to date (${short})` };
    default:
      return { kind: 'rejected', branch, commit, sentence: rejectedSentence(summary, { branch, id }) };
  }
}

/** Why the remote refused, and what to do about it. */
function rejectedSentence(summary: string, target: { readonly branch: string; readonly id: string }): string {
  const { branch, id } = target;
  const reason = /\(([^)]*)\)\s*$/.exec(summary)?.[1] ?? summary.trim();
  if (/stale info/.test(reason)) {
    return `rejected: ${branch} on the remote moved since the host last fetched it; run 'gitiso sync ${id}', look at what changed, then push again`;
  }
  if (/non-fast-forward|fetch first/.test(reason)) {
    return `rejected: the remote's ${branch} has commits the agent's lacks; sync the agent and merge, or push with --force-with-lease`;
  }
  return `rejected by the remote: ${reason || 'no reason given'}`;
}
