import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GitServer } from '../test/support/gitServer';
import { generateRepo, type RepoShape } from './generateRepo';

/** A repository a benchmark runs on: generated to a shape, or a URL of the user's (BENCH_REPO). */
export interface BenchRepo {
  readonly name: string;
  readonly shape?: RepoShape;
  readonly url?: string;
}

/** The URL to clone `repo` from: its own, else the test server's, where it is generated first. */
export function benchRepoUrl(server: GitServer, repo: BenchRepo, log: (line: string) => void = () => undefined): string {
  if (repo.url) {
    return repo.url;
  }
  const bare = server.barePath(repo.name);
  mkdirSync(dirname(bare), { recursive: true });
  const started = performance.now();
  generateRepo(bare, repo.shape as RepoShape);
  log(`${repo.name}: generated ${repo.shape?.files} files, ${repo.shape?.commits} commits in ${Math.round(performance.now() - started)} ms`);
  return server.url(repo.name);
}
