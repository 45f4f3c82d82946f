import { hostGit } from './nonInteractiveGit';

export interface GitIdentity {
  readonly name?: string;
  readonly email?: string;
}

/** The host user's git identity, so commits made in agents are theirs. */
export async function readHostIdentity(cwd?: string): Promise<GitIdentity> {
  const git = await hostGit(cwd && cwd.length > 0 ? { baseDir: cwd } : {});
  const [name, email] = await Promise.all([git.getConfig('user.name'), git.getConfig('user.email')]).catch(() => [undefined, undefined]);
  return { name: name?.value ?? undefined, email: email?.value ?? undefined };
}

/** git config entries for an identity, leaving out what is unknown. */
export function identityConfig(identity: GitIdentity): Record<string, string> {
  const config: Record<string, string> = {};
  if (identity.name) {
    config['user.name'] = identity.name;
  }
  if (identity.email) {
    config['user.email'] = identity.email;
  }
  return config;
}
