import { LABEL } from '../core/agent';
import { defaultImage } from '../core/defaults';
import { Engine } from '../core/docker/engine';
import { readDockerContexts } from '../core/engines/dockerContexts';
import { engineEndpoints, LOCAL_ENGINE, type EngineEndpoint } from '../core/engines/engineEndpoint';
import { describeCause, InvalidInputError } from '../core/errors';
import { createCore, type CoreOptions, type GitisoCore } from '../core/gitisoCore';
import type { Logger } from '../core/logger';
import { containerNameFor } from '../core/names';
import { refuseSetup, trustSetup } from '../core/setup/setupProposal';
import { depthFrom, installTimeoutFrom, limitsFrom, strategyFrom, type Flags } from './args';
import { stderrLogger } from './stderrLogger';

/** What every command works through. */
export interface CliContext {
  /** The core of the engine the command works on (`--engine`). */
  readonly core: GitisoCore;
  /** Present with --verbose. */
  readonly log?: Logger;
  /** A core for each engine gitiso knows (local, GITISO_ENGINES, Docker contexts), for the commands that look at all of them; `dispose` ends them too. */
  everyEngine(): { readonly name: string; readonly core: GitisoCore }[];
  /** Ends every engine's connection this context made (ssh:// engines' are processes of their own): the command is over. */
  dispose(): void;
}

/** What a command that looks at every engine says on stderr of one that does not answer. */
export function engineNotAnswering(name: string, core: GitisoCore, error: unknown): string {
  return `gitiso: engine '${name}' (${core.engine.address} does not answer: ${describeCause(error)}): its agents are not listed\n`;
}

/** How long one engine may take to say whether it has the agent. */
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * The engine an agent is on, by name, when the command names none (no
 * --engine, no --docker-host) and gitiso knows several: the local engine
 * first, then every other at once (one that does not answer has none).
 * Undefined when the local engine has it, or none does (the command then
 * says the agent is not there).
 */
export async function engineOfAgent(flags: Flags, agentId: string): Promise<string | undefined> {
  if (flags.engine || flags['docker-host']) {
    return undefined;
  }
  const { endpoints } = knownEngines(flags);
  if (endpoints.length <= 1) {
    return undefined;
  }
  const made: Engine[] = [];
  const has = async (endpoint: EngineEndpoint): Promise<boolean> => {
    const engine = engineAt(flags, endpoint);
    made.push(engine);
    const look = engine.inspectContainer(containerNameFor(agentId)).then((info) => info?.Config.Labels?.[LABEL.agent] === agentId);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), LOOKUP_TIMEOUT_MS).unref());
    return Promise.race([look, timeout]).catch(() => false);
  };
  try {
    const [local, ...others] = endpoints;
    if (!local || (await has(local))) {
      return undefined;
    }
    const found = await Promise.all(others.map(async (endpoint) => ((await has(endpoint)) ? endpoint.name : undefined)));
    return found.find((name) => name !== undefined);
  } finally {
    made.forEach((engine) => engine.dispose());
  }
}

/** Wires the core from the global flags and the environment. */
export function createContext(flags: Flags): CliContext {
  const log = flags.verbose ? stderrLogger() : undefined;
  const made: Engine[] = [];
  const engineOf = (endpoint: Pick<EngineEndpoint, 'host' | 'tls'>): Engine => {
    const engine = engineAt(flags, endpoint, log);
    made.push(engine);
    return engine;
  };
  return {
    core: createCore({ ...coreOptions(flags, log), engine: engineOf(chosenEngine(flags)) }),
    log,
    everyEngine: () => knownEngines(flags).endpoints.map((endpoint) => ({ name: endpoint.name, core: createCore({ ...coreOptions(flags, log), engine: engineOf(endpoint) }) })),
    dispose: () => made.forEach((engine) => engine.dispose()),
  };
}

/** An engine at an endpoint, with the ssh config the flags or the environment name (for ssh:// ones). */
function engineAt(flags: Flags, endpoint: Pick<EngineEndpoint, 'host' | 'tls'>, log?: Logger): Engine {
  return new Engine({ ...endpoint, sshConfigFile: flags['ssh-config'] || process.env.GITISO_SSH_CONFIG || undefined }, log);
}

function coreOptions(flags: Flags, log: Logger | undefined): Omit<CoreOptions, 'engine'> {
  return {
    log,
    defaultImage: defaultImage(),
    network: flags.network || process.env.GITISO_NETWORK || undefined,
    identityFrom: process.cwd(),
    strategy: strategyFrom(flags.strategy),
    cloneDepth: depthFrom(flags.depth),
    cloneFilter: flags.filter,
    limits: limitsFrom(flags),
    // A repository's .gitiso.json install and files to copy run only when the user says so.
    setupConsent: flags['trust-setup'] ? trustSetup : refuseSetup,
    installTimeoutMs: installTimeoutFrom(flags['install-timeout']),
  };
}

/**
 * The engine a command works on: `--engine NAME` among the local one, the
 * engines in GITISO_ENGINES (a JSON list, as the gitiso.engines setting) and
 * the user's Docker contexts; else `--docker-host`, DOCKER_HOST, or the local socket.
 */
function chosenEngine(flags: Flags): Pick<EngineEndpoint, 'host' | 'tls'> {
  const name = flags.engine;
  if (!name || name === LOCAL_ENGINE) {
    return { host: flags['docker-host'] ?? '' };
  }
  const { endpoints, problems } = knownEngines(flags);
  const endpoint = endpoints.find((known) => known.name === name);
  if (!endpoint) {
    throw new InvalidInputError(`there is no engine named '${name}': the engines are ${endpoints.map((known) => known.name).join(', ')}${problems.length > 0 ? ` (${problems.join('; ')})` : ''}`);
  }
  return endpoint;
}

/** The local engine, GITISO_ENGINES' and the user's Docker contexts, as the extension lists them. */
function knownEngines(flags: Flags): ReturnType<typeof engineEndpoints> {
  let setting: unknown;
  try {
    setting = process.env.GITISO_ENGINES ? JSON.parse(process.env.GITISO_ENGINES) : undefined;
  } catch {
    throw new InvalidInputError('GITISO_ENGINES is not JSON: a list of { "name", "host" } as in the gitiso.engines setting');
  }
  return engineEndpoints({ dockerHost: flags['docker-host'], setting, contexts: readDockerContexts() });
}
