import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { WORKSPACE } from '../agent';
import type { Engine } from '../docker/engine';
import type { ObjectPool } from '../git/objectPool';
import type { Logger } from '../logger';
import { parseLsTree, parseSetupFile, resolveSetup, SETUP_FILE, SETUP_FILE_MAX_BYTES, type RepoSetup, type SetupSettings } from '../setup/repoSetup';
import { runSetupCommand } from '../setup/setupCommand';
import type { ReportProgress } from './createRequest';

/** The repository's setup at a commit, read from the host's pool (no container needed). */
export async function setupAt(pool: Pick<ObjectPool, 'readFile' | 'rootFiles'>, settings: SetupSettings, at: { readonly repoUrl: string; readonly commit: string }): Promise<RepoSetup> {
  const [file, rootFiles] = await Promise.all([pool.readFile(at.repoUrl, at.commit, SETUP_FILE, SETUP_FILE_MAX_BYTES), pool.rootFiles(at.repoUrl, at.commit)]);
  return resolveSetup(parseSetupFile(file), settings, rootFiles);
}

/** The repository's setup as a clone inside a container has it. */
export async function setupIn(engine: Pick<Engine, 'readFile' | 'exec'>, settings: SetupSettings, containerId: string): Promise<RepoSetup> {
  const [file, tree] = await Promise.all([engine.readFile(containerId, `${WORKSPACE}/${SETUP_FILE}`), engine.exec(containerId, ['git', 'ls-tree', 'HEAD'], { workdir: WORKSPACE })]);
  return resolveSetup(parseSetupFile(file?.toString('utf8')), settings, parseLsTree(tree.stdout));
}

/** Copies the setup's files (such as `.env`) from the host folder into the agent; a file the host lacks is skipped with a warning. */
export async function copySetupFiles(engine: Pick<Engine, 'putFile'>, log: Logger, into: { readonly containerId: string; readonly setup: RepoSetup; readonly from?: string }): Promise<void> {
  const { containerId, setup, from } = into;
  if (!from || setup.copy.length === 0) {
    return;
  }
  const root = realpathSync(from);
  for (const path of setup.copy) {
    const source = join(from, path);
    const real = existsSync(source) ? realpathSync(source) : undefined;
    if (!real || !statSync(real).isFile()) {
      log.warn(`setup: '${path}' is not a file in ${from}; not copied`);
      continue;
    }
    // The list comes from the repository, and so may a symbolic link in the folder: nothing outside it goes into an agent.
    if (!isInside(root, real)) {
      log.warn(`setup: '${path}' leads outside ${from} (a symbolic link); not copied`);
      continue;
    }
    await engine.putFile(containerId, `${WORKSPACE}/${path}`, readFileSync(real), statSync(real).mode & 0o777);
  }
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Runs the install in an agent (strategies without a snapshot); returns why it failed, if it did. */
export async function installIn(engine: Pick<Engine, 'exec'>, log: Logger, run: { readonly containerId: string; readonly install: string; readonly report: ReportProgress; readonly signal?: AbortSignal }): Promise<string | undefined> {
  run.report('setup', `running '${run.install}'`);
  const failure = await runSetupCommand(engine, { containerId: run.containerId, command: run.install, log, signal: run.signal });
  if (failure) {
    log.warn(`setup failed: ${failure}`);
  }
  return failure;
}
