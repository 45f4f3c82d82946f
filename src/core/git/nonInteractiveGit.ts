import { simpleGit, type SimpleGit } from 'simple-git';
import { PROTOCOL_CONFIG } from './cloneArgs';

/** ssh options that make it fail rather than ask: no password or passphrase prompt, no host-key question, no endless connect. */
const SSH_OPTIONS = '-o BatchMode=yes -o ConnectTimeout=30';

/**
 * The environment of every git gitiso runs on the host. Nothing may wait for
 * a person: a create runs from a CLI without a terminal or from VS Code, and
 * a prompt there hangs it. Credential helpers that answer without asking
 * still work; git's own prompts, askpass programs, Git Credential Manager's
 * dialogs and ssh's questions fail at once instead. The user's ssh command
 * (GIT_SSH_COMMAND, else core.sshCommand) is kept, with the options added.
 */
export function nonInteractiveEnv(env: NodeJS.ProcessEnv, configuredSshCommand?: string): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const ssh = env.GIT_SSH_COMMAND || configuredSshCommand || 'ssh';
  return {
    ...inherited,
    GIT_TERMINAL_PROMPT: '0',
    // Empty, not unset: git then skips core.askPass and SSH_ASKPASS too.
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GCM_INTERACTIVE: 'never',
    GIT_SSH_COMMAND: `${ssh} ${SSH_OPTIONS}`,
  };
}

let configuredSsh: Promise<string | undefined> | undefined;

/** core.sshCommand from the user's git config, read once per process. */
function configuredSshCommand(): Promise<string | undefined> {
  configuredSsh ??= simpleGit({ unsafe: ENV_IS_OURS })
    .env(nonInteractiveEnv(process.env, 'ssh'))
    .raw(['config', '--get', 'core.sshCommand'])
    .then(
      (value) => value.trim() || undefined,
      () => undefined,
    );
  return configuredSsh;
}

/**
 * simple-git refuses environment variables that run programs unless told
 * they are safe. Here they are the user's own environment plus the values
 * above, never a repository's or an agent's.
 */
const ENV_IS_OURS = {
  allowUnsafeSshCommand: true,
  allowUnsafeAskPass: true,
  allowUnsafeEditor: true,
  allowUnsafePager: true,
  allowUnsafeConfigPaths: true,
  allowUnsafeConfigEnvCount: true,
  // A credential helper the user gives through GIT_CONFIG_* (as CI systems do) is how the pool reaches private remotes.
  allowUnsafeCredentialHelper: true,
  allowUnsafeDiffExternal: true,
  allowUnsafeGitProxy: true,
  allowUnsafeTemplateDir: true,
  // Set by gitiso itself (PROTOCOL_CONFIG): only the allowed transports, whatever URL reaches git.
  allowUnsafeProtocolOverride: true,
} as const;

/** git on the host, never prompting, speaking only the allowed transports (PROTOCOL_CONFIG); `signal` kills it. */
export async function hostGit(options: { readonly baseDir?: string; readonly signal?: AbortSignal } = {}): Promise<SimpleGit> {
  const env = nonInteractiveEnv(process.env, await configuredSshCommand());
  return simpleGit({ ...(options.baseDir ? { baseDir: options.baseDir } : {}), ...(options.signal ? { abort: options.signal } : {}), config: [...PROTOCOL_CONFIG], unsafe: ENV_IS_OURS }).env(env);
}
