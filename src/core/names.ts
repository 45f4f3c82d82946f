import { InvalidInputError } from './errors';

/** Every agent works on its own branch under this prefix. */
export const SESSION_BRANCH_PREFIX = 'gitiso/';

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
    throw new InvalidInputError(`agent id '${id}' is longer than ${AGENT_ID_MAX} characters`);
  }
  if (!AGENT_ID.test(id)) {
    throw new InvalidInputError(`agent id '${id}' is not valid: start with a letter or digit, then use letters, digits, ".", "_" or "-"`);
  }
  const problem = refNameProblem(id);
  if (problem) {
    throw new InvalidInputError(`agent id '${id}' cannot name a branch: ${problem}`);
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
    throw new InvalidInputError(`'${name}' is not a valid branch name: ${problem}`);
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

/**
 * Accepts URLs git can clone from inside a container. Credentials in the URL
 * are refused: gitiso keeps them on the host, and a URL given to `git clone`
 * would land in the clone's `.git/config`.
 */
export function validateRepoUrl(url: string): string {
  const trimmed = url.trim();
  if (!trimmed) {
    throw new InvalidInputError('repository URL is empty');
  }
  if (trimmed.startsWith('-')) {
    throw new InvalidInputError(`repository URL '${trimmed}' starts with "-"`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(trimmed)) {
    throw new InvalidInputError(`repository URL '${trimmed}' contains white space or control characters`);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme) {
    if (!['http', 'https', 'git', 'ssh', 'file'].includes(scheme)) {
      throw new InvalidInputError(`repository URL scheme '${scheme}' is not supported: use https, ssh, git or file`);
    }
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      throw new InvalidInputError(`repository URL '${trimmed}' cannot be parsed`);
    }
    const hasSecret = parsed.password !== '' || (parsed.username !== '' && scheme !== 'ssh');
    if (hasSecret) {
      throw new InvalidInputError('repository URL carries credentials: remove them from the URL; gitiso keeps credentials on the host and never puts them in a container');
    }
    return trimmed;
  }
  // scp-like syntax: [user@]host:path
  if (/^([\w.-]+@)?[\w.-]+:.+/.test(trimmed) || trimmed.startsWith('/')) {
    return trimmed;
  }
  throw new InvalidInputError(`'${trimmed}' does not look like a repository URL: use https://, ssh://, git:// or user@host:path`);
}
