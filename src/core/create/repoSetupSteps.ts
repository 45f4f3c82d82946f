import { WORKSPACE } from '../agent';
import { CreateFailedError } from '../errors';
import type { Engine } from '../docker/engine';
import { describeCause, SetupNotAllowedError } from '../errors';
import type { ObjectPool } from '../git/objectPool';
import { redactCredentials, type Logger } from '../logger';
import { readFileToCopy } from '../setup/copyFromFolder';
import { parseLsTree, parseSetupFile, resolveSetup, SETUP_FILE, SETUP_FILE_MAX_BYTES, type RepoSetup, type SetupSettings } from '../setup/repoSetup';
import { runSetupCommand } from '../setup/setupCommand';
import { describeProposal, proposalOf, type SetupConsent } from '../setup/setupProposal';
import type { ReportProgress } from './createRequest';

/** Whose setup is read, and who decides what its repository may ask of the host. */
export interface SetupSource {
  readonly repoUrl: string;
  /** The user's setup settings; the repository's file comes first. */
  readonly settings: SetupSettings;
  /** Asked when the repository's file wants an install or files copied. */
  readonly consent: SetupConsent;
  /** The user's folder files are copied from; without one, nothing is copied (nor asked). */
  readonly copyFrom?: string;
}

/** The repository's setup at a commit, read from the host's pool (no container needed); throws SetupNotAllowedError when its asks are refused. */
export async function setupAt(pool: Pick<ObjectPool, 'readFile' | 'rootFiles'>, source: SetupSource, commit: string): Promise<RepoSetup> {
  const [file, rootFiles] = await Promise.all([pool.readFile(source.repoUrl, commit, SETUP_FILE, SETUP_FILE_MAX_BYTES), pool.rootFiles(source.repoUrl, commit)]);
  return decideSetup(source, { file, rootFiles });
}

/** The repository's setup as a clone inside a container has it; throws SetupNotAllowedError when its asks are refused. */
export async function setupIn(engine: Pick<Engine, 'readFile' | 'exec'>, source: SetupSource, containerId: string): Promise<RepoSetup> {
  const [file, tree] = await Promise.all([engine.readFile(containerId, `${WORKSPACE}/${SETUP_FILE}`), engine.exec(containerId, ['git', 'ls-tree', 'HEAD'], { workdir: WORKSPACE })]);
  return decideSetup(source, { file: file?.toString('utf8'), rootFiles: parseLsTree(tree.stdout) });
}

/** The repository proposes, the host decides: an install or copy the consent refuses fails the create before its snapshot or container. */
async function decideSetup(source: SetupSource, read: { readonly file: string | undefined; readonly rootFiles: ReadonlyMap<string, string> }): Promise<RepoSetup> {
  const file = parseSetupFile(read.file);
  const proposal = proposalOf(file, { repoUrl: source.repoUrl, fileId: read.rootFiles.get(SETUP_FILE) ?? '', copyFrom: source.copyFrom });
  if (proposal && !(await source.consent(proposal))) {
    throw new SetupNotAllowedError(redactCredentials(source.repoUrl), describeProposal(proposal));
  }
  return { ...resolveSetup(file, source.settings, read.rootFiles), allowed: proposal };
}

/**
 * Copies the setup's files (such as `.env`) from the user's folder into the
 * agent. Each is checked as it is read (copyFromFolder.ts): a path that leads
 * outside the folder or into .git, a link out, a special or too large file is
 * skipped with a warning, never copied.
 */
export async function copySetupFiles(engine: Pick<Engine, 'putFile'>, log: Logger, into: { readonly containerId: string; readonly setup: RepoSetup; readonly from?: string }): Promise<void> {
  const { containerId, setup, from } = into;
  if (!from || setup.copy.length === 0) {
    return;
  }
  for (const path of setup.copy) {
    const read = await readFileToCopy(from, path).catch((error: unknown) => ({ skipped: `${from} cannot be read: ${describeCause(error)}` }));
    if ('skipped' in read) {
      log.warn(`setup: not copied: ${read.skipped}`);
      continue;
    }
    await engine.putFile(containerId, `${WORKSPACE}/${read.file.path}`, read.file.content, read.file.mode);
  }
}

/** Runs the install in an agent (strategies without a snapshot); returns why it failed, if it did. Past `timeoutMs` it fails the create. */
export async function installIn(
  engine: Pick<Engine, 'exec'>,
  log: Logger,
  run: { readonly containerId: string; readonly install: string; readonly report: ReportProgress; readonly signal?: AbortSignal; readonly timeoutMs?: number },
): Promise<string | undefined> {
  run.report('setup', `running '${run.install}'`);
  const timeout = run.timeoutMs
    ? { ms: run.timeoutMs, error: (seconds: number) => new CreateFailedError(`the repository's install '${run.install}' did not finish within ${seconds} s: fix it, or allow it longer (gitiso.setup.installTimeoutSeconds, --install-timeout)`) }
    : undefined;
  const failure = await runSetupCommand(engine, { containerId: run.containerId, command: run.install, log, signal: run.signal, timeout });
  if (failure) {
    log.warn(`setup failed: ${failure}`);
  }
  return failure;
}
