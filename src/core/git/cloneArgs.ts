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

/** `git clone` arguments; "--" keeps the URL from ever being read as an option. */
export function cloneArgs(input: CloneArgsInput): string[] {
  const args = ['clone', '--progress'];
  if (input.branch) {
    args.push('--branch', input.branch);
  }
  if (input.depth && input.depth > 0) {
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
