import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EngineTls } from './engineEndpoint';

/** A Docker context as the docker CLI keeps it: a name, its engine's address, and TLS files when it has them. */
export interface DockerContext {
  readonly name: string;
  readonly host: string;
  readonly tls?: EngineTls;
}

const MAX_CONTEXTS = 50;

/**
 * The user's Docker contexts, read as the docker CLI wrote them
 * (`$DOCKER_CONFIG/contexts/meta/<id>/meta.json`, TLS files in
 * `contexts/tls/<id>/docker/`). Unreadable ones are left out: a broken
 * context must not stop the others.
 */
export function readDockerContexts(env: NodeJS.ProcessEnv = process.env): DockerContext[] {
  const config = env.DOCKER_CONFIG || join(homedir(), '.docker');
  const metaDir = join(config, 'contexts', 'meta');
  let ids: string[];
  try {
    ids = readdirSync(metaDir).filter((id) => /^[0-9a-f]{64}$/.test(id)).slice(0, MAX_CONTEXTS);
  } catch {
    return [];
  }
  return ids.flatMap((id) => {
    try {
      const meta = JSON.parse(readFileSync(join(metaDir, id, 'meta.json'), 'utf8')) as { Name?: unknown; Endpoints?: { docker?: { Host?: unknown } } };
      const host = meta.Endpoints?.docker?.Host;
      if (typeof meta.Name !== 'string' || typeof host !== 'string') {
        return [];
      }
      return [{ name: meta.Name, host, tls: tlsFiles(join(config, 'contexts', 'tls', id, 'docker')) }];
    } catch {
      return [];
    }
  });
}

function tlsFiles(dir: string): EngineTls | undefined {
  const file = (name: string): string | undefined => (existsSync(join(dir, name)) ? join(dir, name) : undefined);
  const tls = { ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem') };
  return tls.ca || tls.cert || tls.key ? tls : undefined;
}
