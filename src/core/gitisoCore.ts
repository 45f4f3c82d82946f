import { join } from 'node:path';
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
import { AgentTools } from './codingAgents/agentTools';
import { AgentSessions } from './codingAgents/agentSessions';
import { USAGE_FILE, UsageStore } from './apiProxy/usageStore';
import { DevServers } from './dev/devServers';
import { Doctor } from './doctor/doctor';
import type { Engine } from './docker/engine';
import type { GitIdentity } from './git/hostGit';
import { ObjectPool } from './git/objectPool';
import { Admission } from './limits/admission';
import type { AgentLimits } from './limits/agentLimits';
import { silentLogger, type Logger } from './logger';
import { noTimings, type StepTimings } from './base/stepTimings';
import { AgentNetwork } from './network/agentNetwork';
import { AgentPorts } from './ports/agentPorts';
import { READY_STATES_DIR, ReadyStates } from './readyStates';
import { RoundTrip } from './roundTrip/roundTrip';
import { WorkspaceGit } from './roundTrip/workspaceGit';
import type { SetupSettings } from './setup/repoSetup';
import type { SetupConsent } from './setup/setupProposal';
import { SnapshotStore } from './snapshot/snapshotStore';
import { defaultStorageDir } from './storage';

/** Everything the core needs to be told; the CLI reads it from flags and the environment, VS Code from its settings. */
export interface CoreOptions {
  readonly engine: Engine;
  readonly log?: Logger;
  /** Image used when a request names none. */
  readonly defaultImage: string;
  /** The user's network setting; empty for gitiso's own network, where agents cannot reach each other. */
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
  /** The host's object pool, when another core (another engine's) made it already: one per storage folder. */
  readonly pool?: ObjectPool;
  /** Where the host keeps the object pool; defaultStorageDir() when absent. */
  readonly storageDir?: string;
  /** The user's setup settings; a repository's `.gitiso.json` comes first. */
  readonly setup?: SetupSettings;
  /** Every agent's limits; DEFAULT_LIMITS fill what is not given. Snapshot builders run within them too. */
  readonly limits?: Partial<AgentLimits>;
  /**
   * Decides what a repository's `.gitiso.json` may ask of the host (an install,
   * files to copy from the user's folder) unless a create brings its own;
   * refused when absent. VS Code asks in a dialog, the CLI takes --trust-setup.
   */
  readonly setupConsent?: SetupConsent;
  /**
   * The exec channels and forwards of an earlier core on the same engine, for
   * a change of settings that is not the engine's: its forwards stay open. The
   * new core owns them from then on; the earlier one must not be disposed.
   */
  readonly keep?: Pick<GitisoCore, 'exec' | 'ports'>;
  /** How long a repository's install may run; DEFAULT_INSTALL_TIMEOUT_SECONDS when absent. */
  readonly installTimeoutMs?: number;
  /** The most an agent may send the host when its work is brought home; DEFAULT_MAX_BUNDLE_BYTES (1 GiB) when absent. */
  readonly maxBundleBytes?: number;
  /** Told how long each step of the pool, snapshot builds and starts took (the benchmark's breakdown). */
  readonly timings?: StepTimings;
}

/** The core, wired: what the CLI and VS Code both work through. */
export interface GitisoCore extends Disposable {
  readonly engine: Engine;
  /** The network agents join (its gateway is where the host's API proxy listens). */
  readonly network: AgentNetwork;
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
  /** Each agent's coding agent, in a session that outlives this process. */
  readonly sessions: AgentSessions;
  /** A task's coding agent installed in an agent made without it. */
  readonly tools: AgentTools;
  /** What crashes left behind: found, and removed. */
  readonly doctor: Doctor;
  /** Agents' work brought into the pool: changes, file contents, push from the host. */
  readonly roundTrip: RoundTrip;
  /** Agents' work taken into a repository of the user's (fetch, check out, merge, apply). */
  readonly workspaceGit: WorkspaceGit;
  /** Each agent's API usage through the key proxy, kept in gitiso's storage for every process. */
  readonly apiUsage: UsageStore;
}

/** The one composition root of the core (hand-wired: constructor injection, no container). */
export function createCore(options: CoreOptions): GitisoCore {
  const { engine } = options;
  const log = options.log ?? silentLogger;
  const timings = options.timings ?? noTimings;
  const storageDir = options.storageDir ?? defaultStorageDir();
  const pool = options.pool ?? new ObjectPool(storageDir, log, undefined, timings);
  const network = new AgentNetwork({ engine, setting: options.network, log });
  const admission = new Admission(engine, options.limits);
  const installTimeoutMs = options.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_SECONDS * 1000;
  const snapshots = new SnapshotStore({ engine, pool, log, network, builderLimits: () => admission.limitsFor(), installTimeoutMs, timings });
  const states = new ReadyStates(engine, log, join(storageDir, READY_STATES_DIR));
  const exec = options.keep?.exec ?? new AgentExec(engine, log);
  const apiUsage = new UsageStore(join(storageDir, USAGE_FILE), { log });
  const agents = new AgentService({ engine, exec, pool, snapshots, states, admission, apiUsage, log });
  const doctor = new Doctor({ engine, snapshots, pool, log });
  const deps: StarterDeps = { engine, pool, snapshots, states, log, setupSettings: options.setup ?? {}, installTimeoutMs, timings };
  const creator = new AgentCreator({
    engine,
    agents,
    admission,
    network,
    doctor,
    log,
    timings,
    starters: {
      snapshot: new SnapshotStarter(deps),
      pool: new PoolCloneStarter(deps),
      remote: new RemoteCloneStarter(deps, { depth: options.cloneDepth, filter: options.cloneFilter }),
    },
    defaultImage: options.defaultImage,
    strategy: options.strategy ?? 'snapshot',
    identityFrom: options.identityFrom,
    identity: options.identity,
    setupConsent: options.setupConsent,
  });
  // A kept AgentPorts lists agents through the earlier core's service: listing needs only the engine.
  const ports = options.keep?.ports ?? new AgentPorts({ exec, agents, engine, log });
  const devServers = new DevServers({ exec, ports, settings: options.setup });
  const roundTrip = new RoundTrip({ exec, agents, pool, log, maxBundleBytes: options.maxBundleBytes });
  const workspaceGit = new WorkspaceGit(roundTrip, log);
  return {
    engine,
    network,
    pool,
    snapshots,
    exec,
    agents,
    creator,
    admission,
    ports,
    devServers,
    sessions: new AgentSessions(exec),
    tools: new AgentTools({ engine, agents, log, installTimeoutMs }),
    doctor,
    roundTrip,
    workspaceGit,
    apiUsage,
    dispose: () => {
      ports.dispose();
      exec.dispose();
    },
  };
}
