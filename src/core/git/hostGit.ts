import { simpleGit, type SimpleGit } from 'simple-git';
import { PROTOCOL_CONFIG } from './cloneArgs';

export interface GitIdentity {
  readonly name?: string;
  readonly email?: string;
}

/** The host user's git identity, so commits made in agents are theirs. */
export async function readHostIdentity(cwd?: string): Promise<GitIdentity> {
  const git = simpleGit(cwd && cwd.length > 0 ? { baseDir: cwd } : {});
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

/**
 * The host's git for anything that may talk to a remote: it uses only the
 * allowed transports (PROTOCOL_CONFIG) whatever URL reaches it. simple-git
 * refuses protocol settings unless told they are meant.
 */
export function hostGit(baseDir?: string): SimpleGit {
  return simpleGit({ ...(baseDir ? { baseDir } : {}), config: [...PROTOCOL_CONFIG], unsafe: { allowUnsafeProtocolOverride: true } });
}
