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
  /**
   * This context, or the same on the engine an agent is on, when the command
   * names none (no --engine, no --docker-host) and gitiso knows several: the
   * local engine is asked first, then every other at once (one that does not
   * answer has none). When none has it, this one: the command then says the
   * agent is not there. The engines asked are the ones the command goes on
   * with (an ssh:// engine's connection is made once).
   */
  onEngineOf(agentId: string): Promise<CliContext>;
  /** Ends every engine's connection this context made (ssh:// engines' are processes of their own): the command is over. */
  dispose(): void;
}

/** What a command that looks at every engine says on stderr of one that does not answer. */
export function engineNotAnswering(name: string, core: GitisoCore, error: unknown): string {
  return `gitiso: engine '${name}' (${core.engine.address} does not answer: ${describeCause(error)}): its agents are not listed\n`;
}

/** How long one engine may take to say whether it has the agent. */
const LOOKUP_TIMEOUT_MS = 10_000;

/** Wires the core from the global flags and the environment. */
export function createContext(flags: Flags): CliContext {
  const log = flags.verbose ? stderrLogger() : undefined;
  const options = coreOptions(flags, log);
  // One Engine per endpoint for the whole command: looking an agent up and working on it share a connection.
  const made = new Map<string, Engine>();
  const engineOf = (endpoint: Pick<EngineEndpoint, 'host' | 'tls'>): Engine => {
    const key = JSON.stringify([endpoint.host, endpoint.tls ?? null]);
    const engine = made.get(key) ?? engineAt(flags, endpoint, log);
    made.set(key, engine);
    return engine;
  };
  const hasAgent = (endpoint: EngineEndpoint, agentId: string): Promise<boolean> => {
    const look = engineOf(endpoint).inspectContainer(containerNameFor(agentId)).then((info) => info?.Config.Labels?.[LABEL.agent] === agentId);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), LOOKUP_TIMEOUT_MS).unref());
    return Promise.race([look, timeout]).catch(() => false);
  };
  const on = (endpoint: Pick<EngineEndpoint, 'host' | 'tls'>): CliContext => {
    const context: CliContext = {
      core: createCore({ ...options, engine: engineOf(endpoint) }),
      log,
      everyEngine: () => knownEngines(flags).endpoints.map((known) => ({ name: known.name, core: createCore({ ...options, engine: engineOf(known) }) })),
      onEngineOf: async (agentId) => {
        const { endpoints } = knownEngines(flags);
        const [local, ...others] = endpoints;
        if (flags.engine || flags['docker-host'] || !local || others.length === 0 || (await hasAgent(local, agentId))) {
          return context;
        }
        const having = await Promise.all(others.map(async (other) => ((await hasAgent(other, agentId)) ? other : undefined)));
        const found = having.find((other) => other !== undefined);
        return found ? on(found) : context;
      },
      dispose: () => made.forEach((engine) => engine.dispose()),
    };
    return context;
  };
  return on(chosenEngine(flags));
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
