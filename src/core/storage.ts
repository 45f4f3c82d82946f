import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where gitiso keeps what lives on the host (the object pool), shared by the
 * extension and the CLI: GITISO_HOME, else the user's cache folder.
 */
export function defaultStorageDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GITISO_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gitiso');
}
