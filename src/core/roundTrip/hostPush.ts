import { asError, describeCause, isCancellation, PushFailedError, RemoteLoginError } from '../errors';
import { gitFailure } from '../git/gitFailure';
import { hostGit } from '../git/nonInteractiveGit';
import { redactCredentials } from '../logger';
import { parsePushPorcelain, type PushTarget } from './pushOutcome';
import { loginAdvice, loginFailure } from './remoteLogin';
import type { PushOutcome } from './roundTripTypes';

export interface HostPush {
  /** The host repository that holds the commit. */
  readonly repoPath: string;
  readonly url: string;
  /** The ref pushed (`refs/gitiso/<id>/head`). */
  readonly source: string;
  readonly target: PushTarget;
  /** With --force-with-lease: the commit the remote's branch must be at ('' for "must not exist"); undefined for a plain push. */
  readonly lease?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (line: string) => void;
}

/**
 * Pushes a ref to a branch at a URL with the host's git: its credential
 * helpers and ssh agent, never a prompt. The remote's answer (porcelain) is
 * the outcome; a failure before it answered is a RemoteLoginError that says
 * how to give the host a credential, or a PushFailedError.
 */
export async function pushFromHost(push: HostPush): Promise<PushOutcome> {
  const { branch, id } = push.target;
  const git = await hostGit({ baseDir: push.repoPath, signal: push.signal });
  let stdout = '';
  let stderr = '';
  git.outputHandler((_command, out, err) => {
    out.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    err.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const line of chunk.toString().split(/[\r\n]+/)) {
        if (line.trim()) {
          push.onProgress?.(redactCredentials(line.trim()));
        }
      }
    });
  });
  const lease = push.lease !== undefined ? [`--force-with-lease=refs/heads/${branch}:${push.lease}`] : [];
  const args = ['push', '--porcelain', ...(push.onProgress ? ['--progress'] : []), ...lease, '--', push.url, `${push.source}:refs/heads/${branch}`];
  const failure = await git.raw(args).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (failure && isCancellation(failure)) {
    throw asError(failure);
  }
  const outcome = parsePushPorcelain(stdout, push.target);
  if (outcome) {
    return outcome;
  }
  const said = stderr || (failure ? describeCause(failure) : '');
  const login = loginFailure(said);
  if (login) {
    throw new RemoteLoginError(`could not push agent '${id}''s branch to ${redactCredentials(push.url)}: ${loginAdvice(login)}`, { cause: failure });
  }
  throw new PushFailedError(`could not push agent '${id}''s branch to ${redactCredentials(push.url)}: ${gitFailure(said)}`, { cause: failure });
}
