/** What decides how a forward reaches an agent's port. */
export interface ForwardFacts {
  readonly hostPlatform: NodeJS.Platform;
  /** The engine's address as gitiso connects to it (unix:///…, tcp://…, ssh://…). */
  readonly engineAddress: string;
  /** The engine's `OperatingSystem` (docker info): "Docker Desktop" for Docker Desktop on any platform. */
  readonly engineOperatingSystem: string;
  /** Rootless Docker (`docker info`'s security options say `rootless`): its containers live in a network namespace of its own, out of the machine's reach. */
  readonly engineRootless?: boolean;
}

/**
 * 'tcp': straight to the container's address; 'ssh': to its address as the
 * engine's machine sees it, through the ssh connection gitiso reaches the
 * engine by (a channel per connection, no exec); 'exec': through the engine's
 * API, a relay exec in the container.
 */
export type ForwardKind = 'tcp' | 'ssh' | 'exec';

/**
 * A container's bridge address is reachable only from the machine its engine
 * runs on, outside any VM: a Linux engine on this machine's own socket.
 * Docker Desktop runs its engine in a VM (on Linux too), and an engine
 * reached by tcp:// is, as far as gitiso can tell, elsewhere: their forwards
 * go through the engine. An ssh:// engine's machine reaches its containers,
 * and gitiso already has a connection to it: forwards go through that.
 * Rootless Docker's containers are reached by neither: through the engine.
 */
export function forwardKind(facts: ForwardFacts): ForwardKind {
  if (facts.engineRootless) {
    // Neither this machine nor the engine's reaches a rootless engine's containers: only its API does.
    return 'exec';
  }
  if (facts.engineAddress.startsWith('ssh:')) {
    return 'ssh';
  }
  const localSocket = facts.engineAddress.startsWith('unix:') || facts.engineAddress.startsWith('/');
  return localSocket && facts.hostPlatform === 'linux' && facts.engineOperatingSystem !== 'Docker Desktop' ? 'tcp' : 'exec';
}
