import { readFileSync } from 'node:fs';
import type { DockerOptions } from './engine';
import { InvalidInputError } from '../errors';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * Turns a Docker host address (as in DOCKER_HOST) into dockerode's options.
 * Empty means "what DOCKER_HOST says, else the local socket".
 */
export function connectionOptions(host: string | undefined, env: NodeJS.ProcessEnv = process.env): { options: DockerOptions; display: string } {
  const address = (host || env.DOCKER_HOST || '').trim();
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
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const tls = url.protocol === 'https:' || (url.protocol === 'tcp:' && Boolean(env.DOCKER_TLS_VERIFY));
      const options: DockerOptions = {
        host: url.hostname,
        port: url.port || (tls ? 2376 : 2375),
        protocol: tls ? 'https' : 'http',
      };
      return { options: tls ? { ...options, ...tlsFiles(env) } : options, display: address };
    }
    case 'ssh:':
      return {
        options: {
          protocol: 'ssh',
          host: url.hostname,
          port: url.port || 22,
          username: decodeURIComponent(url.username) || undefined,
          // Use the host's ssh agent: keys never leave the host.
          sshOptions: env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {},
        },
        display: address,
      };
    default:
      throw new InvalidInputError(`Docker host scheme '${url.protocol}' is not supported: use unix://, tcp:// or ssh://`);
  }
}

function tlsFiles(env: NodeJS.ProcessEnv): Partial<DockerOptions> {
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
