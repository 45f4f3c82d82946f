import { InvalidInputError } from '../errors';

/** What decides where the proxy listens. */
export interface PlacementFacts {
  readonly hostPlatform: NodeJS.Platform;
  /** The engine's `OperatingSystem` (docker info): "Docker Desktop" for Docker Desktop on any platform. */
  readonly engineOperatingSystem: string;
  /** The engine's address as gitiso connects to it (unix:///…, tcp://…, ssh://…). */
  readonly engineAddress: string;
  /** The IPv4 gateway of the agents' network: the host as agents reach it, on a Linux engine. */
  readonly gateway?: string;
}

/** Where the proxy listens, and the host name agents use for it. */
export interface ProxyPlacement {
  readonly listenHost: string;
  readonly agentHost: string;
}

/** The name Docker Desktop gives agents for the host. */
export const DESKTOP_HOST = 'host.docker.internal';

/**
 * Where agents can reach the proxy and little else can. On Linux with the
 * engine on this machine: the agents' network's gateway, an address only on
 * the engine's bridge (not on the LAN, not 127.0.0.1). With Docker Desktop
 * (or any engine in a VM on macOS or Windows) agents reach this machine's
 * 127.0.0.1 through `host.docker.internal`, so the proxy listens there. A
 * remote engine's agents cannot reach this machine: refused.
 */
export function proxyPlacement(facts: PlacementFacts): ProxyPlacement {
  if (!isLocalEngine(facts.engineAddress)) {
    throw new InvalidInputError(`the API proxy runs on this machine, and agents of the Docker engine at ${facts.engineAddress} cannot reach it: use a local engine to broker API keys`);
  }
  if (facts.engineOperatingSystem === 'Docker Desktop' || facts.hostPlatform !== 'linux') {
    return { listenHost: '127.0.0.1', agentHost: DESKTOP_HOST };
  }
  if (!facts.gateway || !/^\d{1,3}(\.\d{1,3}){3}$/.test(facts.gateway)) {
    throw new InvalidInputError('the agents\' Docker network has no IPv4 gateway for the API proxy to listen on: leave the gitiso.network setting empty for gitiso\'s own network');
  }
  return { listenHost: facts.gateway, agentHost: facts.gateway };
}

/** The base URL an agent's tool is given for an upstream (the value of its base-URL variable). */
export function agentBaseUrl(placement: ProxyPlacement, port: number, upstream: string): string {
  return `http://${placement.agentHost}:${port}/${upstream}`;
}

/** Whether gitiso reaches the engine on this machine: its socket, or TCP to loopback. */
export function isLocalEngine(address: string): boolean {
  if (address.startsWith('unix:') || address.startsWith('npipe:') || address.startsWith('/')) {
    return true;
  }
  try {
    const host = new URL(address).hostname;
    return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(host);
  } catch {
    return false;
  }
}
