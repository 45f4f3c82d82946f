import { loginFailure } from '../roundTrip/remoteLogin';

/** git in an image without an ssh client, asked for an ssh remote. */
const NO_SSH_PROGRAM = /cannot run ssh|ssh: not found/i;

/**
 * Whether git's stderr says the remote wanted a login that was not there: a
 * login failure (remoteLogin.ts), or no ssh program to log in with. An agent
 * holds no credentials, so from inside one this means "only the host can
 * reach this remote".
 */
export function isMissingLogin(stderr: string): boolean {
  return loginFailure(stderr) !== undefined || NO_SSH_PROGRAM.test(stderr);
}
