import { WORKSPACE } from '../agent';
import { AgentFileError } from './agentFileError';

/**
 * The path in the agent's container that a `gitiso-agent://<id>/<path>` URI
 * names: `<path>` under /workspace, with "." and ".." resolved. A path that
 * would climb out of /workspace is refused, not clamped: the URI was made to
 * reach something else. Symbolic links are not resolved here; they are the
 * container's business (the host never opens any of these paths itself).
 */
export function agentPath(uriPath: string): string {
  if (uriPath.includes('\0')) {
    throw new AgentFileError('no-permission', 'a path in an agent cannot contain a NUL character');
  }
  const segments: string[] = [];
  for (const segment of uriPath.split('/')) {
    if (segment === '' || segment === '.') {
      continue;
    }
    if (segment === '..') {
      if (segments.length === 0) {
        throw new AgentFileError('no-permission', `'${uriPath}' leaves the agent's ${WORKSPACE}: only files under it can be opened`);
      }
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  return [WORKSPACE, ...segments].join('/');
}

/** The URI path of a path in the container (the inverse of agentPath). */
export function uriPathOf(containerPath: string): string {
  const rest = containerPath.slice(WORKSPACE.length);
  return rest === '' ? '/' : rest;
}
