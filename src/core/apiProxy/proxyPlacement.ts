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

/**
 * How an engine's agents reach the proxy: it listens where they reach this
 * machine (and the host name they use for it), or each agent gets a relay in
 * its container (a listening ConnectionMux) and calls 127.0.0.1 there.
 */
export type ProxyPlacement =
  | { readonly kind: 'listen'; readonly listenHost: string; readonly agentHost: string }
  | { readonly kind: 'relay' };

/** The name Docker Desktop gives agents for the host. */
export const DESKTOP_HOST = 'host.docker.internal';

/**
 * Where agents can reach the proxy and little else can. On Linux with the
 * engine on this machine: the agents' network's gateway, an address only on
 * the engine's bridge (not on the LAN, not 127.0.0.1). With Docker Desktop
 * (or any engine in a VM on macOS or Windows) agents reach this machine's
 * 127.0.0.1 through `host.docker.internal`, so the proxy listens there. A
 * remote engine's agents cannot reach this machine, nor can a network with no
 * IPv4 gateway: relayed.
 */
export function proxyPlacement(facts: PlacementFacts): ProxyPlacement {
  if (!isLocalEngine(facts.engineAddress)) {
    return { kind: 'relay' };
  }
  if (facts.engineOperatingSystem === 'Docker Desktop' || facts.hostPlatform !== 'linux') {
    return { kind: 'listen', listenHost: '127.0.0.1', agentHost: DESKTOP_HOST };
  }
  if (!facts.gateway || !/^\d{1,3}(\.\d{1,3}){3}$/.test(facts.gateway)) {
    return { kind: 'relay' };
  }
  return { kind: 'listen', listenHost: facts.gateway, agentHost: facts.gateway };
}

/** The base URL an agent's tool is given for an upstream (the value of its base-URL variable). */
export function agentBaseUrl(placement: ProxyPlacement, port: number, upstream: string): string {
  return `http://${placement.kind === 'listen' ? placement.agentHost : '127.0.0.1'}:${port}/${upstream}`;
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
