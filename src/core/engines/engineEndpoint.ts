import { InvalidInputError } from '../errors';
import type { DockerContext } from './dockerContexts';

/** The engine gitiso uses when nothing else is named: `gitiso.dockerHost`, else `DOCKER_HOST`, else the local socket. */
export const LOCAL_ENGINE = 'local';

/** Files for a `tcp://` engine that wants TLS (paths on this machine). */
export interface EngineTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** One Docker engine gitiso may place agents on. */
export interface EngineEndpoint {
  /** How the tree, messages and the CLI's `--engine` name it. */
  readonly name: string;
  /** `unix:///path`, `tcp://host:port`, `ssh://user@host[:port]`; empty for the default (DOCKER_HOST, else the local socket). */
  readonly host: string;
  readonly tls?: EngineTls;
  /** Where it was named: the local default, the `gitiso.engines` setting, or a Docker context. */
  readonly from: 'default' | 'setting' | 'context';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
const SCHEMES = new Set(['unix:', 'tcp:', 'ssh:', 'npipe:']);

/**
 * The engines to use, in the order the tree shows them: the local one first,
 * then the setting's, then the user's Docker contexts (not the `default`
 * context, which is the local engine). An entry that repeats a name or an
 * address already listed is left out, so one engine never shows its agents
 * twice; what is wrong with an entry is said in `problems` and the rest are used.
 */
export function engineEndpoints(input: { readonly dockerHost?: string; readonly setting?: unknown; readonly contexts?: readonly DockerContext[]; readonly env?: NodeJS.ProcessEnv }): {
  endpoints: EngineEndpoint[];
  problems: string[];
} {
  const env = input.env ?? process.env;
  const local: EngineEndpoint = { name: LOCAL_ENGINE, host: (input.dockerHost ?? '').trim(), from: 'default' };
  const endpoints: EngineEndpoint[] = [local];
  const problems: string[] = [];
  const addresses = new Set([addressOf(local.host || env.DOCKER_HOST || '')]);
  const add = (endpoint: EngineEndpoint, where: string): void => {
    if (endpoints.some((known) => known.name === endpoint.name)) {
      problems.push(`${where}: the name '${endpoint.name}' is taken by another engine`);
    } else if (addresses.has(addressOf(endpoint.host))) {
      if (endpoint.from === 'setting') {
        problems.push(`${where}: '${endpoint.host}' is an engine already listed`);
      }
    } else {
      endpoints.push(endpoint);
      addresses.add(addressOf(endpoint.host));
    }
  };
  const entries = input.setting === undefined || input.setting === null ? [] : Array.isArray(input.setting) ? input.setting : undefined;
  if (!entries) {
    problems.push('gitiso.engines must be a list of { "name", "host" } entries');
  }
  (entries ?? []).forEach((entry: unknown, index) => {
    const where = `gitiso.engines[${index}]`;
    try {
      add(settingEntry(entry, where), where);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  });
  for (const context of input.contexts ?? []) {
    if (context.name !== 'default' && NAME.test(context.name) && context.host) {
      add({ name: context.name, host: context.host, tls: context.tls, from: 'context' }, `Docker context '${context.name}'`);
    }
  }
  return { endpoints, problems };
}

function settingEntry(entry: unknown, where: string): EngineEndpoint {
  if (typeof entry !== 'object' || entry === null) {
    throw new InvalidInputError(`${where} must be an object with "name" and "host"`);
  }
  const { name, host, tls } = entry as Record<string, unknown>;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidInputError(`${where}.name must be 1–40 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  if (typeof host !== 'string' || !validHost(host)) {
    throw new InvalidInputError(`${where}.host must be unix:///path, tcp://host:port or ssh://user@host[:port]`);
  }
  return { name, host, tls: tlsEntry(tls, where), from: 'setting' };
}

function tlsEntry(tls: unknown, where: string): EngineTls | undefined {
  if (tls === undefined) {
    return undefined;
  }
  const files = (typeof tls === 'object' && tls !== null ? tls : {}) as Record<string, unknown>;
  const paths = ['ca', 'cert', 'key'].map((key) => files[key]);
  if (typeof tls !== 'object' || tls === null || paths.some((path) => path !== undefined && typeof path !== 'string')) {
    throw new InvalidInputError(`${where}.tls must be { "ca", "cert", "key" }: paths of PEM files`);
  }
  const [ca, cert, key] = paths as (string | undefined)[];
  return { ca, cert, key };
}

function validHost(host: string): boolean {
  try {
    const url = new URL(host);
    // A host that starts with '-' would read as an option to ssh.
    return SCHEMES.has(url.protocol) && !url.hostname.startsWith('-') && !decodeURIComponent(url.username).startsWith('-');
  } catch {
    return false;
  }
}

/** An address as written, without a trailing slash or the default ports, to notice one engine named twice. */
function addressOf(host: string): string {
  return host.trim().replace(/\/+$/, '').replace(/^unix:\/\/$/, '').replace(/:22$/, '') || 'unix:///var/run/docker.sock';
}
