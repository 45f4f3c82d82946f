/**
 * What git (and ssh under it) print when a remote wants a login the caller
 * cannot give: HTTPS asking for a user name or refusing one, ssh without a
 * key the server accepts, without the server's host key, or with no ssh
 * program at all. An agent holds no credentials, so from inside one these
 * mean "only the host can reach this remote".
 */
const MISSING_LOGIN = [
  /could not read (Username|Password) for/i,
  /terminal prompts disabled/i,
  /Authentication failed for/i,
  /The requested URL returned error: 401/i,
  /Permission denied \((publickey|password|keyboard-interactive)/i,
  /Host key verification failed/i,
  /cannot run ssh/i,
  /ssh: not found/i,
];

/** Whether git's stderr says the remote wanted a login that was not there. */
export function isMissingLogin(stderr: string): boolean {
  return MISSING_LOGIN.some((pattern) => pattern.test(stderr));
}
