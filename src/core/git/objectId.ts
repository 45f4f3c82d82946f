import { InvalidInputError } from '../errors';

/** An object id as git prints it: SHA-1 or SHA-256, lower-case hex. */
export const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** `commit` when it is a full object id; else an error, before it reaches git as an argument. */
export function checkedCommit(commit: string): string {
  if (!OBJECT_ID.test(commit)) {
    throw new InvalidInputError(`'${commit.slice(0, 80)}' is not a commit id`);
  }
  return commit;
}
