/** The image agents run from when neither a setting nor GITISO_IMAGE names one: it has git, sh and Node. */
export const DEFAULT_IMAGE = 'node:22-bookworm';

export function defaultImage(env: NodeJS.ProcessEnv = process.env): string {
  return env.GITISO_IMAGE || DEFAULT_IMAGE;
}

/** How long a repository's install may run (the setting gitiso.setup.installTimeoutSeconds, the flag --install-timeout). */
export const DEFAULT_INSTALL_TIMEOUT_SECONDS = 600;
