import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ObjectPool } from '../git/objectPool';
import { hostGit } from '../git/nonInteractiveGit';

type PoolPaths = Pick<ObjectPool, 'root' | 'pathFor'>;

/**
 * Where agents' work of one repository is kept on the host: a bare repository
 * beside the pool's mirror, not in it, because the pool strategy mounts the
 * mirror into agents: one agent must never read another's work. It borrows the
 * mirror's objects (alternates), so a bundle thin against the mirror fetches.
 */
export function workRepoPath(pool: PoolPaths, repoUrl: string): string {
  return join(pool.root, 'work', basename(pool.pathFor(repoUrl)));
}

/** The work repository, made the first time (aside, then renamed into place, so a crash leaves no half-made one where it is looked for). */
export async function ensureWorkRepo(pool: PoolPaths, repoUrl: string): Promise<string> {
  const path = workRepoPath(pool, repoUrl);
  if (existsSync(join(path, 'HEAD'))) {
    return path;
  }
  mkdirSync(join(pool.root, 'work'), { recursive: true });
  const temp = `${path}.init-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await (await hostGit()).raw(['init', '--bare', '--quiet', '--', temp]);
    writeFileSync(join(temp, 'objects', 'info', 'alternates'), `${join(pool.pathFor(repoUrl), 'objects')}\n`);
    const git = await hostGit({ baseDir: temp });
    // The mirror never collects (gc.auto 0); this one neither, as objects it borrows must stay.
    await git.addConfig('gc.auto', '0');
    await git.addConfig('core.logAllRefUpdates', 'false');
    try {
      renameSync(temp, path);
    } catch (error) {
      // Another process made it meanwhile: theirs is as good.
      if (!existsSync(join(path, 'HEAD'))) {
        throw error;
      }
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return path;
}
