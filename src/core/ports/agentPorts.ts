import { isRunning, LABEL } from '../agent';
import type { AgentExec } from '../agentExec';
import type { AgentService } from '../agentService';
import { Emitter, type Disposable } from '../base/event';
import { ContainerEventsWatcher } from '../docker/events';
import { containerAddress } from '../docker/containerAddress';
import type { ContainerInspectInfo, Engine } from '../docker/engine';
import { AgentNotRunningError, describeCause, GitisoError, NoFreePortError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { containerNameFor } from '../names';
import { ExecRelays } from './execRelay';
import { forwardKind, type ForwardKind } from './forwardKind';
import { closeTarget, describeTarget, type ForwardTarget } from './forwardTarget';
import { parseListeningPorts, type ListeningPort } from './procNetTcp';
import { PortForwarder } from './portForwarder';

const DOCKER_DNS = '127.0.0.11';

export interface Forward {
  readonly agentId: string;
  readonly containerPort: number;
  readonly hostPort: number;
  readonly url: string;
  /** How it reaches the agent: straight to the container, through the engine's ssh connection, or through the engine's API (an exec relay). */
  readonly through: 'container address' | 'ssh connection' | 'engine API';
}

/**
 * The ports agents listen on, and their forwards to 127.0.0.1. Every agent has
 * its own network namespace, so two agents may both listen on 3000: each gets
 * its own host port. Forwards of an agent that stops or goes are closed, as the
 * engine's events tell.
 */
export class AgentPorts implements Disposable {
  private readonly forwarders = new Map<string, Map<number, PortForwarder>>();
  /** Which agent each host port went to, for as long as this object lives (a window keeps it until its engine changes). */
  private readonly hostPortOwners = new Map<number, string>();
  /** Forwards closed because their agent stopped (the user, a crash, an engine restart): container port → host port, reopened when it runs again. */
  private readonly resumable = new Map<string, Map<number, number>>();
  private watcher: ContainerEventsWatcher | undefined;
  private readonly changed = new Emitter<string>();
  /** Fires with the agent's id when one of its forwards opens or closes. */
  readonly onDidChange = this.changed.event;

  private readonly exec: AgentExec;
  private readonly agents: Pick<AgentService, 'list'>;
  private readonly engine: Engine;
  private readonly log: Logger;
  private readonly relays: ExecRelays;
  /** Forwards through an ssh engine's connection, by `agent:port`: the container address each reaches, and how to end it. */
  private readonly tunnels = new Map<string, { readonly address: string; close(): Promise<void> }>();
  /** How forwards reach agents' ports, decided once from the engine. */
  private kind: Promise<ForwardKind> | undefined;

  /**
   * `via: 'exec'` forces the relay through the engine (for tests: a local engine would be reached directly);
   * `execMux: false` keeps those forwards to an exec per connection (tests of those relays).
   */
  constructor(deps: { readonly exec: AgentExec; readonly agents: Pick<AgentService, 'list'>; readonly engine: Engine; readonly log?: Logger; readonly via?: ForwardKind; readonly execMux?: boolean }) {
    this.exec = deps.exec;
    this.agents = deps.agents;
    this.engine = deps.engine;
    this.log = deps.log ?? silentLogger;
    this.relays = new ExecRelays({ engine: deps.engine, exec: deps.exec, mux: deps.execMux });
    this.kind = deps.via ? Promise.resolve(deps.via) : undefined;
  }

  /** Starts following the engine, so forwards end with their agents (once: a core that keeps this object starts it again). */
  start(): void {
    if (this.watcher) {
      return;
    }
    this.watcher = new ContainerEventsWatcher(this.engine, { label: LABEL.agent, log: this.log });
    this.watcher.onDidChange(() => void this.followAgents());
    this.watcher.start();
  }

  /**
   * What the agent's processes listen on, from /proc/net/tcp and tcp6 inside
   * it: a probe, so a long git command does not hold it up. What `cat` prints
   * is the agent's: lines that are not sockets are skipped.
   */
  async discover(agentId: string): Promise<ListeningPort[]> {
    const result = await this.exec.probe(agentId, ['cat', '/proc/net/tcp', '/proc/net/tcp6']);
    // 127.0.0.11 is the engine's own DNS resolver on user-defined networks, not the agent's.
    return parseListeningPorts(result.stdout).filter((port) => port.address !== DOCKER_DNS);
  }

  /** Forwards one of the agent's ports to 127.0.0.1 (the same forward when it exists). */
  forward(agentId: string, containerPort: number): Promise<Forward> {
    return this.open(agentId, { containerPort, preferredHostPort: containerPort });
  }

  private async open(agentId: string, ports: { readonly containerPort: number; readonly preferredHostPort: number }): Promise<Forward> {
    const { containerPort } = ports;
    const existing = this.forwarders.get(agentId)?.get(containerPort);
    if (existing) {
      return toForward(agentId, containerPort, existing);
    }
    const info = await this.engine.inspectContainer(containerNameFor(agentId));
    if (!info?.State.Running) {
      throw new AgentNotRunningError(agentId, info ? 'stopped' : 'gone');
    }
    const target = await this.targetOf(agentId, info, containerPort);
    const forwarder = await this.openFor(agentId, target, ports.preferredHostPort).catch((error: unknown) => {
      closeTarget(target);
      throw error;
    });
    const forAgent = this.forwarders.get(agentId) ?? new Map<number, PortForwarder>();
    forAgent.set(containerPort, forwarder);
    this.forwarders.set(agentId, forAgent);
    this.log.info(`forwarding ${agentId}:${containerPort} to ${forwarder.url} (through ${describeTarget(target)})`);
    this.changed.fire(agentId);
    return toForward(agentId, containerPort, forwarder);
  }

  /** The container's address where this machine reaches it, else a relay through the engine. */
  private async targetOf(agentId: string, info: ContainerInspectInfo, containerPort: number): Promise<ForwardTarget> {
    this.kind ??= Promise.all([this.engine.operatingSystem(), this.engine.isRootless()]).then(
      ([engineOperatingSystem, engineRootless]) => forwardKind({ hostPlatform: process.platform, engineAddress: this.engine.address, engineOperatingSystem, engineRootless }),
      (error: unknown) => {
        this.kind = undefined;
        throw error;
      },
    );
    const kind = await this.kind;
    if (kind === 'exec') {
      return this.relays.target(agentId, info.Id, containerPort);
    }
    const address = containerAddress(info);
    if (!address) {
      throw new GitisoError(`agent '${agentId}' has no network address this machine can reach: is its container on a network?`);
    }
    return kind === 'ssh' ? this.tunnelTo(agentId, address, containerPort) : { kind: 'tcp', host: address, port: containerPort };
  }

  /** A socket here that reaches the container's port through the engine's ssh connection; one per forward, closed with it. */
  private async tunnelTo(agentId: string, address: string, containerPort: number): Promise<ForwardTarget> {
    const tunnel = await this.engine.tunnelTo(address, containerPort);
    if (!tunnel) {
      throw new GitisoError(`the engine at ${this.engine.address} has no ssh connection to forward through`);
    }
    const key = `${agentId}:${containerPort}`;
    await this.tunnels.get(key)?.close();
    this.tunnels.set(key, { address, close: tunnel.close });
    return { kind: 'socket', path: tunnel.path };
  }

  /**
   * A forwarder on a host port no other agent has had from this object. A host
   * port is an origin (http://127.0.0.1:PORT) to the browser: a page of one
   * agent must never find there what another agent's page left (storage,
   * service workers), nor a preview still pointed there show another agent.
   */
  private async openFor(agentId: string, target: ForwardTarget, preferred: number): Promise<PortForwarder> {
    const others = (port: number): boolean => (this.hostPortOwners.get(port) ?? agentId) !== agentId;
    const refused: PortForwarder[] = [];
    try {
      let forwarder = await PortForwarder.open(target, others(preferred) ? undefined : preferred);
      // Held open while looking further, so the system does not hand the same port back.
      while (others(forwarder.hostPort) && refused.length < 20) {
        refused.push(forwarder);
        forwarder = await PortForwarder.open(target);
      }
      if (others(forwarder.hostPort)) {
        refused.push(forwarder);
        throw new NoFreePortError();
      }
      this.hostPortOwners.set(forwarder.hostPort, agentId);
      return forwarder;
    } finally {
      await Promise.all(refused.map((forwarder) => forwarder.close()));
    }
  }

  forwards(agentId?: string): Forward[] {
    return [...this.forwarders]
      .filter(([id]) => agentId === undefined || id === agentId)
      .flatMap(([id, ports]) => [...ports].map(([port, forwarder]) => toForward(id, port, forwarder)));
  }

  /** Closes the agent's forwards (one port, or all). */
  async stop(agentId: string, containerPort?: number): Promise<void> {
    if (containerPort === undefined) {
      this.resumable.delete(agentId);
    } else {
      this.resumable.get(agentId)?.delete(containerPort);
    }
    await this.close(agentId, containerPort);
  }

  private async close(agentId: string, containerPort?: number): Promise<void> {
    const forAgent = this.forwarders.get(agentId);
    for (const [port, forwarder] of forAgent ?? []) {
      if (containerPort === undefined || port === containerPort) {
        await forwarder.close();
        closeTarget(forwarder.target);
        await this.tunnels.get(`${agentId}:${port}`)?.close();
        this.tunnels.delete(`${agentId}:${port}`);
        forAgent?.delete(port);
        this.log.info(`stopped forwarding ${agentId}:${port}`);
        this.changed.fire(agentId);
      }
    }
    if (forAgent?.size === 0) {
      this.forwarders.delete(agentId);
      this.relays.forget(agentId);
    }
  }

  /**
   * Follows the agents: forwards of an agent that stopped close (and are
   * reopened on the same host ports when it runs again: after a restart of
   * the agent or of the engine, a preview finds its page where it was);
   * forwards of an agent that is gone close for good.
   */
  private async followAgents(): Promise<void> {
    if (this.forwarders.size === 0 && this.resumable.size === 0) {
      return;
    }
    const agents = await this.agents.list().catch(() => undefined);
    if (!agents) {
      return; // the engine did not answer: keep the forwards until it says more
    }
    const byId = new Map(agents.map((agent) => [agent.id, agent]));
    for (const agentId of [...this.forwarders.keys()]) {
      const agent = byId.get(agentId);
      if (agent && isRunning(agent)) {
        await this.followAddress(agentId);
        continue;
      }
      if (agent) {
        this.resumable.set(agentId, new Map(this.forwards(agentId).map((forward) => [forward.containerPort, forward.hostPort])));
      }
      await this.close(agentId);
    }
    for (const [agentId, ports] of [...this.resumable]) {
      const agent = byId.get(agentId);
      if (agent && !isRunning(agent)) {
        continue;
      }
      this.resumable.delete(agentId);
      for (const [containerPort, hostPort] of agent ? ports : []) {
        await this.open(agentId, { containerPort, preferredHostPort: hostPort }).catch((error: unknown) => this.log.warn(`could not forward ${agentId}:${containerPort} again: ${describeCause(error)}`));
      }
    }
  }

  /** A container that restarted (with the engine, say) may have another address: its forwards follow it. */
  private async followAddress(agentId: string): Promise<void> {
    const info = await this.engine.inspectContainer(containerNameFor(agentId)).catch(() => undefined);
    const address = info && containerAddress(info);
    for (const [port, forwarder] of address ? (this.forwarders.get(agentId) ?? []) : []) {
      const tunnel = this.tunnels.get(`${agentId}:${port}`);
      if (address && tunnel && tunnel.address !== address) {
        this.log.info(`forward of ${agentId}:${port} follows its agent to ${address}, through the engine's ssh connection`);
        forwarder.retarget(await this.tunnelTo(agentId, address, port));
        continue;
      }
      const target = forwarder.target;
      // A relay through the engine follows the container by itself.
      if (address && target.kind === 'tcp' && target.host !== address) {
        this.log.info(`forward of ${agentId}:${target.port} follows its agent to ${address}`);
        forwarder.retarget({ ...target, host: address });
      }
    }
  }

  dispose(): void {
    this.watcher?.dispose();
    this.changed.dispose();
    this.resumable.clear();
    for (const agentId of [...this.forwarders.keys()]) {
      void this.close(agentId);
    }
  }
}

function toForward(agentId: string, containerPort: number, forwarder: PortForwarder): Forward {
  const through = ({ tcp: 'container address', socket: 'ssh connection', exec: 'engine API' } as const)[forwarder.target.kind];
  return { agentId, containerPort, hostPort: forwarder.hostPort, url: forwarder.url, through };
}
