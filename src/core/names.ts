import { InvalidInputError } from './errors';

/** Every agent works on its own branch under this prefix. */
export const SESSION_BRANCH_PREFIX = 'gitiso/';

/** Untrusted text as a message quotes it: control characters escaped (no terminal escapes), long text cut. */
export function shown(text: string): string {
  const cut = text.length > 100 ? `${text.slice(0, 100)}…` : text;
  return JSON.stringify(cut).slice(1, -1);
}

const AGENT_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const AGENT_ID_MAX = 63;

/**
 * An agent id names a container (`gitiso-<id>`, Docker's name rules) and a
 * branch (`gitiso/<id>`, git's ref rules), so it must satisfy both.
 */
export function validateAgentId(id: string): string {
  if (!id) {
    throw new InvalidInputError('agent id is empty: use letters, digits, ".", "_" or "-"');
  }
  if (id.length > AGENT_ID_MAX) {
    throw new InvalidInputError(`agent id '${shown(id)}' is longer than ${AGENT_ID_MAX} characters`);
  }
  if (!AGENT_ID.test(id)) {
    throw new InvalidInputError(`agent id '${shown(id)}' is not valid: start with a letter or digit, then use letters, digits, ".", "_" or "-"`);
  }
  const problem = refNameProblem(id);
  if (problem) {
    throw new InvalidInputError(`agent id '${shown(id)}' cannot name a branch: ${problem}`);
  }
  return id;
}

export function sessionBranchFor(agentId: string): string {
  return SESSION_BRANCH_PREFIX + agentId;
}

export function containerNameFor(agentId: string): string {
  return `gitiso-${agentId}`;
}

/** Checks a branch name with the rules of `git check-ref-format --branch`. */
export function validateBranchName(name: string): string {
  const problem = refNameProblem(name);
  if (problem) {
    throw new InvalidInputError(`'${shown(name)}' is not a valid branch name: ${problem}`);
  }
  return name;
}

/** Returns why `name` is not a valid ref name, or undefined when it is. */
export function refNameProblem(name: string): string | undefined {
  if (!name) {
    return 'it is empty';
  }
  if (name.startsWith('-')) {
    return 'it starts with "-"';
  }
  if (name === '@') {
    return 'it is "@"';
  }
  if (name.includes('..')) {
    return 'it contains ".."';
  }
  if (name.includes('@{')) {
    return 'it contains "@{"';
  }
  if (name.includes('//')) {
    return 'it contains "//"';
  }
  if (name.startsWith('/') || name.endsWith('/')) {
    return 'it starts or ends with "/"';
  }
  if (name.endsWith('.')) {
    return 'it ends with "."';
  }
  // eslint-disable-next-line no-control-regex
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (bad) {
    return `it contains ${JSON.stringify(bad[0])}`;
  }
  for (const component of name.split('/')) {
    if (component.startsWith('.')) {
      return 'a part of it starts with "."';
    }
    if (component.endsWith('.lock')) {
      return 'a part of it ends with ".lock"';
    }
  }
  return undefined;
}

/** The transports gitiso lets git use: no `ext::` (it runs a command), `fd::` or other remote helpers. */
export const ALLOWED_PROTOCOLS = ['https', 'http', 'ssh', 'git', 'file'] as const;

const REPO_URL_MAX = 2048;
const CREDENTIALS = 'repository URL carries credentials: remove them from the URL; gitiso keeps credentials on the host and never puts them in a container';

/**
 * Accepts URLs git can clone from inside a container, in the forms git reads
 * as one of ALLOWED_PROTOCOLS: `<scheme>://…`, scp-like `[user@]host:path`
 * and absolute paths. Credentials in the URL are refused: gitiso keeps them on
 * the host, and a URL given to `git clone` would land in the clone's
 * `.git/config`.
 */
export function validateRepoUrl(url: string): string {
  const trimmed = url.trim();
  if (!trimmed) {
    throw new InvalidInputError('repository URL is empty');
  }
  if (trimmed.length > REPO_URL_MAX) {
    throw new InvalidInputError(`repository URL is longer than ${REPO_URL_MAX} characters`);
  }
  if (trimmed.startsWith('-')) {
    throw new InvalidInputError(`repository URL '${shown(trimmed)}' starts with "-"`);
  }
  // git reads `<transport>::<address>` as "run git-remote-<transport>"; `ext::` runs any command.
  const helper = /^([a-z][a-z0-9+.-]*)::/i.exec(trimmed)?.[1];
  if (helper) {
    throw new InvalidInputError(`repository URL '${shown(trimmed)}' uses the '${helper}::' transport, which gitiso does not allow: use https://, ssh://, git:// or user@host:path`);
  }
  // Encoded ones too: git decodes %0a in a URL before it talks to credential helpers.
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]|%[01][0-9a-f]|%7f/i.test(trimmed)) {
    throw new InvalidInputError(`repository URL '${shown(trimmed)}' contains white space or control characters`);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme) {
    return validateSchemeUrl(trimmed, scheme);
  }
  if (trimmed.startsWith('/')) {
    return trimmed;
  }
  // scp-like syntax: [user@]host:path, where git reads everything before the first ":" as [user@]host.
  const scp = /^(?:([^@/:]+)@)?([^@/:]+):(.+)$/.exec(trimmed);
  if (scp) {
    const [, user, host = '', path = ''] = scp;
    if (/^[^/]*@/.test(path)) {
      // user:password@host:path
      throw new InvalidInputError(CREDENTIALS);
    }
    if (!/^[\w.-]+$/.test(host) || host.startsWith('-') || (user !== undefined && !/^[\w.-]+$/.test(user))) {
      throw new InvalidInputError(`repository URL '${trimmed}' has an invalid user or host: write it like git@example.com:team/repo.git`);
    }
    return trimmed;
  }
  throw new InvalidInputError(`'${trimmed}' does not look like a repository URL: use https://, ssh://, git:// or user@host:path`);
}

function validateSchemeUrl(url: string, scheme: string): string {
  if (!(ALLOWED_PROTOCOLS as readonly string[]).includes(scheme)) {
    throw new InvalidInputError(`repository URL scheme '${scheme}' is not supported: use https, ssh, git or file`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError(`repository URL '${url}' cannot be parsed`);
  }
  // Any user name but ssh's is a token in disguise (https://ghp_…@host); a password never belongs in it.
  if (parsed.password !== '' || (parsed.username !== '' && scheme !== 'ssh') || /^[^/]*:[^/]*@/.test(url.slice(scheme.length + 3))) {
    throw new InvalidInputError(CREDENTIALS);
  }
  if (parsed.hostname.startsWith('-') || parsed.username.startsWith('-')) {
    throw new InvalidInputError(`repository URL '${url}' has a user or host that starts with "-"`);
  }
  return url;
}
