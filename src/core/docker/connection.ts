import { readFileSync } from 'node:fs';
import type { DockerOptions } from './engine';
import { InvalidInputError } from '../errors';
import type { EngineTls } from '../engines/engineEndpoint';
import type { Logger } from '../logger';
import { SshTunnel, sshDestination } from './sshTunnel';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** How to reach one engine: its address, TLS files for tcp://, and the ssh config file for ssh://. */
export interface EngineConnection {
  /** `unix:///path`, `tcp://host:port`, `ssh://user@host[:port][/socket]`; empty means DOCKER_HOST, else the local socket. */
  readonly host?: string;
  readonly tls?: EngineTls;
  /** For ssh://: a config file other than ~/.ssh/config (`gitiso.sshConfigFile`). */
  readonly sshConfigFile?: string;
}

/**
 * Turns an engine's address (as in DOCKER_HOST) into dockerode's options.
 * An ssh:// engine gets a tunnel (the system's ssh, see sshTunnel.ts) that the
 * engine must dispose of.
 */
export function connectionOptions(
  connection: EngineConnection,
  env: NodeJS.ProcessEnv = process.env,
  log?: Logger,
): { options: DockerOptions; display: string; tunnel?: SshTunnel } {
  const address = (connection.host || env.DOCKER_HOST || '').trim();
  if (!address) {
    return { options: { socketPath: DEFAULT_SOCKET }, display: `unix://${DEFAULT_SOCKET}` };
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new InvalidInputError(`Docker host '${address}' is not a URL: use unix:///path, tcp://host:port or ssh://user@host`);
  }
  switch (url.protocol) {
    case 'unix:':
      return { options: { socketPath: url.pathname }, display: address };
    case 'npipe:':
      return { options: { socketPath: `//./pipe/${url.pathname.replace(/^\/+(\.\/pipe\/)?/, '')}` }, display: address };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const tls = url.protocol === 'https:' || Boolean(connection.tls) || (url.protocol === 'tcp:' && Boolean(env.DOCKER_TLS_VERIFY));
      const options: DockerOptions = {
        host: url.hostname,
        port: url.port || (tls ? 2376 : 2375),
        protocol: tls ? 'https' : 'http',
      };
      return { options: tls ? { ...options, ...tlsFiles(connection.tls, env) } : options, display: address };
    }
    case 'ssh:': {
      if (url.hostname.startsWith('-') || decodeURIComponent(url.username).startsWith('-')) {
        throw new InvalidInputError(`Docker host '${address}': a host or user may not start with '-'`);
      }
      const tunnel = new SshTunnel(sshDestination(url), { configFile: connection.sshConfigFile || undefined, log });
      // A socket path, not an HTTP agent: VS Code's extension host puts its own agent on HTTP requests.
      // The first request waits for ssh; later ones go straight to the socket (Engine revives ssh when it is gone).
      const socketPath = (): Promise<string> => tunnel.socket().catch(() => tunnel.socketPath);
      return { options: { socketPath } as unknown as DockerOptions, display: address, tunnel };
    }
    default:
      throw new InvalidInputError(`Docker host scheme '${url.protocol}' is not supported: use unix://, tcp:// or ssh://`);
  }
}

/** TLS files: the engine's own (a setting or a Docker context), else DOCKER_CERT_PATH's. */
function tlsFiles(tls: EngineTls | undefined, env: NodeJS.ProcessEnv): Partial<DockerOptions> {
  if (tls) {
    return { ca: tls.ca && readFileSync(tls.ca), cert: tls.cert && readFileSync(tls.cert), key: tls.key && readFileSync(tls.key) };
  }
  const dir = env.DOCKER_CERT_PATH;
  if (!dir) {
    return {};
  }
  return {
    ca: readFileSync(`${dir}/ca.pem`),
    cert: readFileSync(`${dir}/cert.pem`),
    key: readFileSync(`${dir}/key.pem`),
  };
}
