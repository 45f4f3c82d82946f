import type { AgentExec } from '../agentExec';
import { openExecStream, type ExecStreamEngine } from '../docker/execStream';
import { GitisoError } from '../errors';
import type { ForwardTarget } from './forwardTarget';
import { RelayPool } from './warmRelays';
import { chooseRelayProgram, noRelayProgramMessage, RELAY_PROBE, relayArgv, type RelayProgram } from './relayPrograms';

/**
 * Forwards through the engine's own API, for engines whose containers this
 * machine cannot reach (Docker Desktop, a remote engine): each connection is
 * an exec in the agent's container running a relay to 127.0.0.1:PORT there,
 * started ahead of the connection and kept warm (warmRelays.ts).
 * Which relay program the container has is asked once per agent.
 */
export class ExecRelays {
  private readonly programs = new Map<string, Promise<RelayProgram>>();
  /** Each agent's forwards' warm relays, ended with their forward or when the agent is forgotten. */
  private readonly pools = new Map<string, Set<RelayPool>>();

  constructor(private readonly deps: { readonly engine: ExecStreamEngine; readonly exec: Pick<AgentExec, 'probe'> }) {}

  /**
   * The target of a forward of `port` in the agent's container, with its
   * spare relays started (warmRelays.ts): the caller closes it with its
   * forward. Refused, saying what to install, when the container has no relay program.
   */
  async target(agentId: string, containerId: string, port: number): Promise<ForwardTarget> {
    const program = await this.programOf(agentId, port);
    const argv = relayArgv(program, port);
    const pool = new RelayPool(() => openExecStream(this.deps.engine, { containerId, argv, halfClose: program.halfClose }));
    const pools = this.pools.get(agentId) ?? new Set<RelayPool>();
    pools.add(pool);
    this.pools.set(agentId, pools);
    return {
      kind: 'exec',
      describe: `${program.name} in ${agentId} to its port ${port}`,
      open: () => pool.take(),
      close: () => {
        pool.close();
        pools.delete(pool);
      },
    };
  }

  /** The agent's container may be another one next time (or have another image): asked again; its spare relays end. */
  forget(agentId: string): void {
    this.programs.delete(agentId);
    for (const pool of this.pools.get(agentId) ?? []) {
      pool.close();
    }
    this.pools.delete(agentId);
  }

  private programOf(agentId: string, port: number): Promise<RelayProgram> {
    const known = this.programs.get(agentId);
    if (known) {
      return known;
    }
    const found = this.deps.exec.probe(agentId, RELAY_PROBE).then((result) => {
      const program = chooseRelayProgram(result.stdout);
      if (!program) {
        throw new GitisoError(noRelayProgramMessage(agentId, port));
      }
      return program;
    });
    this.programs.set(agentId, found);
    // A failure is not kept: the user may install one and try again.
    found.catch(() => this.programs.delete(agentId));
    return found;
  }
}
