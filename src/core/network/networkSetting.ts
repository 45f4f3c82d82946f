import { createHash } from 'node:crypto';
import type { NetworkInspectInfo } from '../docker/engine';
import { InvalidInputError } from '../errors';

/**
 * gitiso's own network: a bridge with inter-container communication off, so
 * agents (and snapshot builds) reach the internet, the git remote and the
 * host, but not each other. One shared network rather than one per agent: a
 * network per agent made a create about 540 ms slower (1.86 s against 1.32 s)
 * and a removal about 360 ms slower (`npm run bench:network`), and the
 * engine's default address pools hold only about 30 networks.
 */
export const GITISO_NETWORK = 'gitiso';
/**
 * Its bridge interface on the engine's machine, by a name a host firewall
 * rule can match (`gitiso+`): `gitiso-` and 8 hex digits of a hash of what
 * tells the engine apart (`Engine.engineId`), so two engines on one machine
 * (a second dockerd, rootful beside another) make bridges of their own; with
 * one name, the second engine would take the first's bridge, and delete it
 * with its network. Networks made before keep their name (`gitiso0`).
 */
export function gitisoBridgeName(engineId: string): string {
  return engineId ? `gitiso-${createHash('sha256').update(engineId).digest('hex').slice(0, 8)}` : 'gitiso0';
}
export const NETWORK_LABEL = 'gitiso.network';

export const BRIDGE_OPTION = {
  icc: 'com.docker.network.bridge.enable_icc',
  name: 'com.docker.network.bridge.name',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
} as const;

/** How messages name the setting, in VS Code and in the CLI. */
export const NETWORK_SETTING = 'the gitiso.network setting (--network, GITISO_NETWORK)';

export type NetworkChoice = { readonly kind: 'isolated' } | { readonly kind: 'named'; readonly name: string };

/** Network modes that would undo an agent's isolation, and what each would let it do. */
const REFUSED: ReadonlyArray<{ readonly matches: (name: string) => boolean; readonly why: string }> = [
  { matches: (name) => name === 'host', why: 'agents would share this machine\'s network, 127.0.0.1 and every port on it included' },
  { matches: (name) => name === 'none', why: 'agents would have no network at all, not even their git remote' },
  { matches: (name) => name.startsWith('container:'), why: 'agents would share another container\'s network and reach all it reaches' },
  { matches: (name) => name === 'bridge' || name === 'default', why: 'the engine\'s default bridge lets agents reach each other\'s ports' },
];

/**
 * What the user's setting asks for: empty (or gitiso's own network's name) is
 * gitiso's isolated network; any other name is used as it is. Throws
 * InvalidInputError for a mode that would undo the isolation.
 */
export function networkChoice(setting: string | undefined): NetworkChoice {
  const name = (setting ?? '').trim();
  if (name === '' || name === GITISO_NETWORK) {
    return { kind: 'isolated' };
  }
  const refused = REFUSED.find((mode) => mode.matches(name.toLowerCase()));
  if (refused) {
    throw new InvalidInputError(`${NETWORK_SETTING} is '${name}': ${refused.why}; leave it empty for gitiso's own network, where agents cannot reach each other`);
  }
  return { kind: 'named', name };
}

/** Why agents must not join a network the setting named (by a name or an id), or undefined. */
export function refusalOf(info: NetworkInspectInfo, setting: string): InvalidInputError | undefined {
  const isDefaultBridge = info.Options?.[BRIDGE_OPTION.defaultBridge] === 'true';
  if (info.Driver !== 'host' && info.Driver !== 'null' && !isDefaultBridge) {
    return undefined;
  }
  return new InvalidInputError(`${NETWORK_SETTING} is '${setting}', the engine's '${info.Name}' network: agents would share the host's network, have none, or reach each other; leave it empty for gitiso's own network`);
}

/** Whether containers on the network cannot open connections to each other (a bridge with ICC off). */
export function isolatesContainers(info: NetworkInspectInfo): boolean {
  return info.Driver === 'bridge' && info.Options?.[BRIDGE_OPTION.icc] === 'false';
}

/** The engine's options for gitiso's own network, on the engine of that id. */
export function gitisoNetworkSpec(engineId: string, name = GITISO_NETWORK): { Name: string; Driver: string; Labels: Record<string, string>; Options: Record<string, string> } {
  return {
    Name: name,
    Driver: 'bridge',
    Labels: { [NETWORK_LABEL]: 'agents' },
    Options: { [BRIDGE_OPTION.icc]: 'false', [BRIDGE_OPTION.name]: gitisoBridgeName(engineId) },
  };
}
