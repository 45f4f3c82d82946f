import { InvalidInputError } from '../errors';
import { ALLOWED_PROTOCOLS } from '../names';

/**
 * git settings that let it use only ALLOWED_PROTOCOLS, whatever the user's or
 * the image's config says: `ext::` runs a command, `fd::` and other remote
 * helpers are no business of gitiso's. Named ones beat `protocol.allow`, so the
 * dangerous ones are refused by name too.
 */
export const PROTOCOL_CONFIG: readonly string[] = ['protocol.allow=never', 'protocol.ext.allow=never', 'protocol.fd.allow=never', ...ALLOWED_PROTOCOLS.map((name) => `protocol.${name}.allow=always`)];

/** git's own ceiling for --depth (an int). */
export const MAX_CLONE_DEPTH = 2 ** 31 - 1;

export interface CloneArgsInput {
  readonly url: string;
  readonly directory: string;
  /** Branch to check out; the remote's default when absent. */
  readonly branch?: string;
  /** git config to write into the new clone (user.name, user.email). */
  readonly config?: Readonly<Record<string, string>>;
  readonly depth?: number;
  readonly filter?: string;
}

/** `git clone` arguments, after PROTOCOL_CONFIG; "--" keeps the URL from ever being read as an option. */
export function cloneArgs(input: CloneArgsInput): string[] {
  const args = [...PROTOCOL_CONFIG.flatMap((setting) => ['-c', setting]), 'clone', '--progress'];
  if (input.branch) {
    args.push('--branch', input.branch);
  }
  if (input.depth !== undefined && (!Number.isInteger(input.depth) || input.depth < 0 || input.depth > MAX_CLONE_DEPTH)) {
    throw new InvalidInputError(`clone depth ${input.depth} is not valid: use a whole number of commits from 1 to ${MAX_CLONE_DEPTH}, or 0 for the whole history`);
  }
  if (input.depth) {
    args.push('--depth', String(input.depth), '--no-single-branch');
  }
  if (input.filter) {
    args.push(`--filter=${input.filter}`);
  }
  for (const [key, value] of Object.entries(input.config ?? {})) {
    args.push('--config', `${key}=${value}`);
  }
  args.push('--', input.url, input.directory);
  return args;
}
