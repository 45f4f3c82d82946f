/** Why git could not log in to a remote, from its stderr; undefined when it is not a login failure. */
export type LoginFailure = 'password' | 'ssh-key' | 'host-key';

export function loginFailure(stderr: string): LoginFailure | undefined {
  if (/Host key verification failed/i.test(stderr)) {
    return 'host-key';
  }
  if (/Permission denied \(publickey|Permission denied, please try again/i.test(stderr)) {
    return 'ssh-key';
  }
  if (/could not read (Username|Password)|Authentication failed|terminal prompts disabled|HTTP Basic: Access denied|returned error: 40[13]/i.test(stderr)) {
    return 'password';
  }
  return undefined;
}

/** What the user does so that the host's git can log in without asking. */
export function loginAdvice(failure: LoginFailure): string {
  switch (failure) {
    case 'host-key':
      return "the host does not know the remote's ssh host key: connect once with ssh from a terminal (or add the key to ~/.ssh/known_hosts), then try again";
    case 'ssh-key':
      return 'the remote refused the host\'s ssh key: load a key the remote accepts into your ssh agent (ssh-add), or name one in ~/.ssh/config, then try again';
    case 'password':
      return "the host's git has no credential for the remote and gitiso never prompts: set up a credential helper (git config --global credential.helper store or your platform's helper, then log in once with git from a terminal), or use an ssh URL with a key in your ssh agent";
  }
}
