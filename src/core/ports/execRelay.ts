import type { AgentExec } from '../agentExec';
import { ConnectionMux } from '../docker/connectionMux';
import { openExecStream, type ExecStreamEngine } from '../docker/execStream';
import { muxArgv } from '../docker/muxPrograms';
import { GitisoError } from '../errors';
import type { ForwardTarget } from './forwardTarget';
import { RelayPool } from './warmRelays';
import { chooseRelayProgram, noRelayProgramMessage, probedNames, RELAY_PROBE, relayArgv, type RelayProgram } from './relayPrograms';

/** How a forward through the engine reaches the agent's port: one mux for all its connections, or an exec per connection. */
type RelayWay = { readonly kind: 'mux' } | { readonly kind: 'relays'; readonly program: RelayProgram };

/**
 * Forwards through the engine's own API, for engines whose containers this
 * machine cannot reach (Docker Desktop, a remote engine). Where the container
 * has python3 or node, one exec per forward carries every connection
 * (connectionMux.ts): a new connection costs a frame, not an exec's start.
 * Otherwise each connection is an exec running a relay to 127.0.0.1:PORT,
 * started ahead of the connection and kept warm (warmRelays.ts). What the
 * container has is asked once per agent.
 */
export class ExecRelays {
  private readonly ways = new Map<string, Promise<RelayWay>>();
  /** Each agent's forwards' muxes and warm relays, ended with their forward or when the agent is forgotten. */
  private readonly kept = new Map<string, Set<{ close(): void }>>();

  /** `mux: false` keeps to an exec per connection (tests of those relays). */
  constructor(private readonly deps: { readonly engine: ExecStreamEngine; readonly exec: Pick<AgentExec, 'probe'>; readonly mux?: boolean }) {}

  /**
   * The target of a forward of `port` in the agent's container, its mux (or
   * spare relays) started: the caller closes it with its forward. Refused,
   * saying what to install, when the container has no relay program.
   */
  async target(agentId: string, containerId: string, port: number): Promise<ForwardTarget> {
    const way = await this.wayOf(agentId, port);
    const kept = this.kept.get(agentId) ?? new Set<{ close(): void }>();
    this.kept.set(agentId, kept);
    if (way.kind === 'mux') {
      const start = (): ConnectionMux => new ConnectionMux({ name: `the forward of ${agentId}'s port ${port}`, stream: openExecStream(this.deps.engine, { containerId, argv: muxArgv('connect', port), halfClose: false }), missingProgram: noRelayProgramMessage(agentId, port) });
      let mux = start();
      const closer = { close: () => mux.close() };
      kept.add(closer);
      return {
        kind: 'exec',
        describe: `one stream in ${agentId} to its port ${port}`,
        // One that ended (killed in the container, its exec gone) is started again by the next connection: no restart loop.
        open: () => {
          mux = mux.open ? mux : start();
          return mux.connect();
        },
        close: () => {
          mux.close();
          kept.delete(closer);
        },
      };
    }
    const { program } = way;
    const argv = relayArgv(program, port);
    const pool = new RelayPool(() => openExecStream(this.deps.engine, { containerId, argv, halfClose: program.halfClose }));
    kept.add(pool);
    return {
      kind: 'exec',
      describe: `${program.name} in ${agentId} to its port ${port}`,
      open: () => pool.take(),
      close: () => {
        pool.close();
        kept.delete(pool);
      },
    };
  }

  /** The agent's container may be another one next time (or have another image): asked again; its muxes and spare relays end. */
  forget(agentId: string): void {
    this.ways.delete(agentId);
    for (const kept of this.kept.get(agentId) ?? []) {
      kept.close();
    }
    this.kept.delete(agentId);
  }

  private wayOf(agentId: string, port: number): Promise<RelayWay> {
    const known = this.ways.get(agentId);
    if (known) {
      return known;
    }
    const found = this.deps.exec.probe(agentId, RELAY_PROBE).then((result): RelayWay => {
      const names = probedNames(result.stdout);
      if (this.deps.mux !== false && (names.has('python3') || names.has('node'))) {
        return { kind: 'mux' };
      }
      const program = chooseRelayProgram(result.stdout);
      if (!program) {
        throw new GitisoError(noRelayProgramMessage(agentId, port));
      }
      return { kind: 'relays', program };
    });
    this.ways.set(agentId, found);
    // A failure is not kept: the user may install one and try again.
    found.catch(() => this.ways.delete(agentId));
    return found;
  }
}
