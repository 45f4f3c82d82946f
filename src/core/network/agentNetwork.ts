import type { Engine, NetworkInspectInfo } from '../docker/engine';
import { AgentNetworkError, describeCause, InvalidInputError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { GITISO_NETWORK, gitisoNetworkSpec, isolatesContainers, NETWORK_SETTING, networkChoice, refusalOf } from './networkSetting';

export interface AgentNetworkOptions {
  readonly engine: Pick<Engine, 'inspectNetwork' | 'createNetwork' | 'engineId'>;
  /** The user's setting; empty for gitiso's own network. */
  readonly setting?: string;
  readonly log?: Logger;
}

/**
 * The network agents and snapshot builds join. gitiso's own is made on first
 * use, and checked on every use: a network of that name that lets containers
 * reach each other (made by someone else) is refused, and one removed since
 * (`docker network prune`) is made again.
 */
export class AgentNetwork {
  private ensuring: Promise<string> | undefined;
  private warned = false;

  constructor(private readonly options: AgentNetworkOptions) {}

  /**
   * The network to give the engine (its id). A setting that would undo the
   * isolation is InvalidInputError, before anything is made.
   */
  async resolve(): Promise<string> {
    const choice = networkChoice(this.options.setting);
    if (choice.kind === 'named') {
      return this.named(choice.name);
    }
    // Concurrent creates of this process share one check (and one make).
    this.ensuring ??= this.ensureOwn().finally(() => (this.ensuring = undefined));
    return this.ensuring;
  }

  /** The network's IPv4 gateway: the host's address as agents on it reach the host (on a Linux engine). */
  async gateway(): Promise<string | undefined> {
    const info = await this.options.engine.inspectNetwork(await this.resolve());
    return info?.IPAM?.Config?.map((config) => config.Gateway).find((address) => address !== undefined && /^[\d.]+$/.test(address));
  }

  private async ensureOwn(): Promise<string> {
    const info = (await this.options.engine.inspectNetwork(GITISO_NETWORK)) ?? (await this.makeOwn());
    if (!isolatesContainers(info)) {
      throw new AgentNetworkError(`Docker network '${GITISO_NETWORK}' lets its containers reach each other (gitiso did not make it): remove it ('docker network rm ${GITISO_NETWORK}') so gitiso makes it again, or name another network in ${NETWORK_SETTING}`);
    }
    return info.Id;
  }

  private async makeOwn(): Promise<NetworkInspectInfo> {
    const { engine, log = silentLogger } = this.options;
    let failure: unknown;
    try {
      await engine.createNetwork(gitisoNetworkSpec(await engine.engineId()));
      log.info(`made Docker network '${GITISO_NETWORK}': containers on it cannot reach each other`);
    } catch (error) {
      // Another process may have made it first: what the engine has now decides.
      failure = error;
    }
    const info = await engine.inspectNetwork(GITISO_NETWORK);
    if (!info) {
      throw new AgentNetworkError(`could not make Docker network '${GITISO_NETWORK}' for agents: check the engine, or name a network of yours in ${NETWORK_SETTING} (${describeCause(failure)})`, { cause: failure });
    }
    return info;
  }

  private async named(name: string): Promise<string> {
    const info = await this.options.engine.inspectNetwork(name);
    if (!info) {
      throw new InvalidInputError(`Docker network '${name}' does not exist: create it, or change ${NETWORK_SETTING} (empty for gitiso's own network)`);
    }
    const refusal = refusalOf(info, name);
    if (refusal) {
      throw refusal;
    }
    this.warnIfOpen(info);
    return info.Id;
  }

  /** A network of the user's own is used as it is; say once if agents on it can reach each other. */
  private warnIfOpen(info: NetworkInspectInfo): void {
    if (!this.warned && !isolatesContainers(info)) {
      this.warned = true;
      (this.options.log ?? silentLogger).warn(`agents on Docker network '${info.Name}' can reach each other's ports: leave ${NETWORK_SETTING} empty for gitiso's own network, where they cannot`);
    }
  }
}
