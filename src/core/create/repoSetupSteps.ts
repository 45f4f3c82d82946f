import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE } from '../agent';
import { withTimeout } from '../base/abort';
import { CreateFailedError, TimeoutError } from '../errors';
import type { Engine } from '../docker/engine';
import type { ObjectPool } from '../git/objectPool';
import type { Logger } from '../logger';
import { parseLsTree, parseSetupFile, resolveSetup, SETUP_FILE, type RepoSetup, type SetupSettings } from '../setup/repoSetup';
import { runSetupCommand } from '../setup/setupCommand';
import type { ReportProgress } from './createRequest';

/** The repository's setup at a commit, read from the host's pool (no container needed). */
export async function setupAt(pool: Pick<ObjectPool, 'readFile' | 'rootFiles'>, settings: SetupSettings, at: { readonly repoUrl: string; readonly commit: string }): Promise<RepoSetup> {
  const [file, rootFiles] = await Promise.all([pool.readFile(at.repoUrl, at.commit, SETUP_FILE), pool.rootFiles(at.repoUrl, at.commit)]);
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
  for (const path of setup.copy) {
    const source = join(from, path);
    if (!existsSync(source) || !statSync(source).isFile()) {
      log.warn(`setup: '${path}' is not a file in ${from}; not copied`);
      continue;
    }
    await engine.putFile(containerId, `${WORKSPACE}/${path}`, readFileSync(source), statSync(source).mode & 0o777);
  }
}

/** Runs the install in an agent (strategies without a snapshot); returns why it failed, if it did. Past `timeoutMs` it fails the create. */
export async function installIn(
  engine: Pick<Engine, 'exec'>,
  log: Logger,
  run: { readonly containerId: string; readonly install: string; readonly report: ReportProgress; readonly signal?: AbortSignal; readonly timeoutMs?: number },
): Promise<string | undefined> {
  run.report('setup', `running '${run.install}'`);
  const failure = await runSetupCommand(engine, { containerId: run.containerId, command: run.install, log, signal: withTimeout(run.signal, run.timeoutMs) }).catch((error: unknown) => {
    if (error instanceof TimeoutError && !run.signal?.aborted) {
      throw new CreateFailedError(`the repository's install '${run.install}' did not finish within ${Math.round((run.timeoutMs ?? 0) / 1000)} s: fix it, or allow it longer (gitiso.setup.installTimeoutSeconds, --install-timeout)`);
    }
    throw error;
  });
  if (failure) {
    log.warn(`setup failed: ${failure}`);
  }
  return failure;
}
