import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { GitServer } from '../test/support/gitServer';
import { generateRepo, type RepoShape } from './generateRepo';

/** A repository a benchmark runs on: generated to a shape, a repository on this machine, or a URL of the user's (BENCH_REPO). */
export interface BenchRepo {
  readonly name: string;
  readonly shape?: RepoShape;
  /** A repository on this machine (a working tree or a bare one): copied into the bench's git server and served from there. */
  readonly path?: string;
  readonly url?: string;
}

/** BENCH_REPO as a repository to bench: a folder on this machine when one is there by that name, else a URL. */
export function benchRepoFromEnv(value: string): BenchRepo {
  return existsSync(value) ? { name: 'BENCH_REPO', path: resolve(value) } : { name: 'BENCH_REPO', url: value };
}

/** The URL to clone `repo` from: its own, else the test server's, where it is generated or copied first. */
export function benchRepoUrl(server: GitServer, repo: BenchRepo, log: (line: string) => void = () => undefined): string {
  if (repo.url) {
    return repo.url;
  }
  const bare = server.barePath(repo.name);
  mkdirSync(dirname(bare), { recursive: true });
  const started = performance.now();
  if (repo.path) {
    // Its branches and tags with their history, as a remote would serve them; no hard links (the copy is the server's, removed with it), no hook of it runs.
    execFileSync('git', ['clone', '--bare', '--no-local', '--quiet', '--', repo.path, bare], { stdio: ['ignore', 'ignore', 'pipe'] });
    log(`${repo.name}: copied ${basename(repo.path)} (${execFileSync('git', ['-C', bare, 'rev-list', '--count', '--all'], { encoding: 'utf8' }).trim()} commits) in ${Math.round(performance.now() - started)} ms`);
  } else {
    generateRepo(bare, repo.shape as RepoShape);
    log(`${repo.name}: generated ${repo.shape?.files} files, ${repo.shape?.commits} commits in ${Math.round(performance.now() - started)} ms`);
  }
  return server.url(repo.name);
}
