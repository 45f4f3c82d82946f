import { defaultImage } from '../core/defaults';
import { Engine } from '../core/docker/engine';
import { createCore, type CoreOptions, type GitisoCore } from '../core/gitisoCore';
import type { Logger } from '../core/logger';
import { refuseSetup, trustSetup } from '../core/setup/setupProposal';
import { depthFrom, installTimeoutFrom, limitsFrom, strategyFrom, type Flags } from './args';
import { stderrLogger } from './stderrLogger';

/** What every command works through. */
export interface CliContext {
  readonly core: GitisoCore;
  /** Present with --verbose. */
  readonly log?: Logger;
}

/** Wires the core from the global flags and the environment: the CLI's one createCore call. */
export function createContext(flags: Flags): CliContext {
  const log = flags.verbose ? stderrLogger() : undefined;
  return { core: createCore(coreOptions(flags, log)), log };
}

function coreOptions(flags: Flags, log: Logger | undefined): CoreOptions {
  return {
    engine: new Engine(flags['docker-host'], log),
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
