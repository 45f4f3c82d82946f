import type { CreateStrategy } from './agent';
import { AgentExec } from './agentExec';
import { AgentService } from './agentService';
import type { Disposable } from './base/event';
import { AgentCreator } from './create/agentCreator';
import type { StarterDeps } from './create/agentStarter';
import { PoolCloneStarter } from './create/poolCloneStarter';
import { RemoteCloneStarter } from './create/remoteCloneStarter';
import { SnapshotStarter } from './create/snapshotStarter';
import { DEFAULT_INSTALL_TIMEOUT_SECONDS } from './defaults';
import { DevServers } from './dev/devServers';
import { Doctor } from './doctor/doctor';
import type { Engine } from './docker/engine';
import type { GitIdentity } from './git/hostGit';
import { ObjectPool } from './git/objectPool';
import { Admission } from './limits/admission';
import type { AgentLimits } from './limits/agentLimits';
import { silentLogger, type Logger } from './logger';
import { AgentPorts } from './ports/agentPorts';
import { ReadyStates } from './readyStates';
import type { SetupSettings } from './setup/repoSetup';
import { SnapshotStore } from './snapshot/snapshotStore';
import { defaultStorageDir } from './storage';

/** Everything the core needs to be told; the CLI reads it from flags and the environment, VS Code from its settings. */
export interface CoreOptions {
  readonly engine: Engine;
  readonly log?: Logger;
  /** Image used when a request names none. */
  readonly defaultImage: string;
  /** Docker network agents join; the engine's default bridge when absent. */
  readonly network?: string;
  /** Where to read the host's git identity from (a workspace folder); the user's global config when absent. */
  readonly identityFrom?: string;
  /** Overrides the host's git identity (tests, scripts). */
  readonly identity?: GitIdentity;
  /** How agents get their clone; `snapshot` when absent. */
  readonly strategy?: CreateStrategy;
  /** For the remote strategy: shallow (`--depth`) and partial (`--filter`) clones. */
  readonly cloneDepth?: number;
  readonly cloneFilter?: string;
  /** Where the host keeps the object pool; defaultStorageDir() when absent. */
  readonly storageDir?: string;
  /** The user's setup settings; a repository's `.gitiso.json` comes first. */
  readonly setup?: SetupSettings;
  /** Every agent's limits; DEFAULT_LIMITS fill what is not given. Snapshot builders run within them too. */
  readonly limits?: Partial<AgentLimits>;
  /** How long a repository's install may run; DEFAULT_INSTALL_TIMEOUT_SECONDS when absent. */
  readonly installTimeoutMs?: number;
}

/** The core, wired: what the CLI and VS Code both work through. */
export interface GitisoCore extends Disposable {
  readonly engine: Engine;
  readonly pool: ObjectPool;
  readonly snapshots: SnapshotStore;
  /** Commands and git in agents. */
  readonly exec: AgentExec;
  /** The agents that exist: list, get, start, stop, remove, sync, limits. */
  readonly agents: AgentService;
  readonly creator: AgentCreator;
  readonly admission: Admission;
  /** This process's forwards of agents' ports to 127.0.0.1. */
  readonly ports: AgentPorts;
  readonly devServers: DevServers;
  /** What crashes left behind: found, and removed. */
  readonly doctor: Doctor;
}

/** The one composition root of the core (hand-wired: constructor injection, no container). */
export function createCore(options: CoreOptions): GitisoCore {
  const { engine } = options;
  const log = options.log ?? silentLogger;
  const pool = new ObjectPool(options.storageDir ?? defaultStorageDir(), log);
  const admission = new Admission(engine, options.limits);
  const installTimeoutMs = options.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_SECONDS * 1000;
  const snapshots = new SnapshotStore({ engine, pool, log, network: options.network, builderLimits: () => admission.limitsFor(), installTimeoutMs });
  const states = new ReadyStates(engine);
  const exec = new AgentExec(engine, log);
  const agents = new AgentService({ engine, exec, pool, snapshots, states, admission, log });
  const doctor = new Doctor({ engine, snapshots, pool, log });
  const deps: StarterDeps = { engine, pool, snapshots, states, log, network: options.network, setupSettings: options.setup ?? {}, installTimeoutMs };
  const creator = new AgentCreator({
    engine,
    agents,
    admission,
    doctor,
    log,
    starters: {
      snapshot: new SnapshotStarter(deps),
      pool: new PoolCloneStarter(deps),
      remote: new RemoteCloneStarter(deps, { depth: options.cloneDepth, filter: options.cloneFilter }),
    },
    defaultImage: options.defaultImage,
    strategy: options.strategy ?? 'snapshot',
    identityFrom: options.identityFrom,
    identity: options.identity,
  });
  const ports = new AgentPorts({ exec, agents, engine, log });
  const devServers = new DevServers({ exec, ports, settings: options.setup });
  return {
    engine,
    pool,
    snapshots,
    exec,
    agents,
    creator,
    admission,
    ports,
    devServers,
    doctor,
    dispose: () => {
      ports.dispose();
      exec.dispose();
    },
  };
}
