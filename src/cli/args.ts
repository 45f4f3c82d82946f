import { parseArgs } from 'node:util';
import { CREATE_STRATEGIES, type CreateStrategy } from '../core/agent';
import { InvalidInputError } from '../core/errors';
import { MAX_CLONE_DEPTH } from '../core/git/cloneArgs';
import { parseCpus, parseMemory, parsePids, type AgentLimits } from '../core/limits/agentLimits';
import { shown } from '../core/names';
import { UsageError } from './errors';

/** Every flag of every command in one table: any flag is accepted before or after any command. */
const OPTIONS = {
  repo: { type: 'string' },
  base: { type: 'string' },
  image: { type: 'string' },
  network: { type: 'string' },
  'docker-host': { type: 'string' },
  engine: { type: 'string' },
  'all-engines': { type: 'boolean' },
  'ssh-config': { type: 'string' },
  strategy: { type: 'string' },
  depth: { type: 'string' },
  filter: { type: 'string' },
  count: { type: 'string' },
  prefix: { type: 'string' },
  agent: { type: 'string' },
  on: { type: 'string', multiple: true },
  prune: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  forward: { type: 'boolean' },
  'copy-from': { type: 'string' },
  memory: { type: 'string' },
  cpus: { type: 'string' },
  pids: { type: 'string' },
  force: { type: 'boolean' },
  to: { type: 'string' },
  'force-with-lease': { type: 'boolean' },
  'trust-setup': { type: 'boolean' },
  fix: { type: 'boolean' },
  'install-timeout': { type: 'string' },
  watch: { type: 'boolean', short: 'w' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export type Flags = ReturnType<typeof parseFlags>['values'];

/** A command line, taken apart. */
export interface CommandLine {
  /** The first word that is not a flag: the command's name. */
  readonly command?: string;
  /** The words after the command, up to a `--`. */
  readonly operands: readonly string[];
  /** Everything after the first `--`, untouched: it is git's. */
  readonly passThrough: readonly string[];
  readonly flags: Flags;
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const dashDash = argv.indexOf('--');
  const own = dashDash >= 0 ? argv.slice(0, dashDash) : [...argv];
  const passThrough = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
  const { values, positionals } = parseFlags(own);
  const [command, ...operands] = positionals;
  return { command, operands, passThrough, flags: values };
}

function parseFlags(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    // Node's message (unknown option, missing value) is the usage error's text.
    if (error instanceof Error && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(error.message, { cause: error });
    }
    throw error;
  }
}

/** The most agents one `create --count` makes. */
export const MAX_CREATE_COUNT = 100;

/** The limits --memory, --cpus and --pids give (only those given); a bad value is a usage error that names its flag. */
export function limitsFrom(flags: Pick<Flags, 'memory' | 'cpus' | 'pids'>): Partial<AgentLimits> {
  const limits: { -readonly [K in keyof AgentLimits]?: AgentLimits[K] } = {};
  if (flags.memory !== undefined) {
    limits.memoryBytes = flagValue('memory', () => parseMemory(flags.memory ?? ''));
  }
  if (flags.cpus !== undefined) {
    limits.cpus = flagValue('cpus', () => parseCpus(flags.cpus ?? ''));
  }
  if (flags.pids !== undefined) {
    limits.pids = flagValue('pids', () => parsePids(flags.pids ?? ''));
  }
  return limits;
}

/** --count: how many agents to create, 1 to MAX_CREATE_COUNT; undefined when not given. */
export function countFrom(value: string | undefined): number | undefined {
  return wholeNumberFlag('count', value, { min: 1, max: MAX_CREATE_COUNT });
}

/** --depth: commits a remote clone fetches, 0 (all) to git's ceiling; undefined when not given. */
export function depthFrom(value: string | undefined): number | undefined {
  return wholeNumberFlag('depth', value, { min: 0, max: MAX_CLONE_DEPTH });
}

function wholeNumberFlag(name: string, value: string | undefined, range: { readonly min: number; readonly max: number }): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= range.min && number <= range.max)) {
    throw new UsageError(`--${name} must be a whole number from ${range.min} to ${range.max}, not '${shown(value)}'`);
  }
  return number;
}

/** The core's InvalidInputError for a flag's value, as a usage error that names the flag. */
function flagValue<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new UsageError(`--${name}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

export function strategyFrom(value: string | undefined): CreateStrategy | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!(CREATE_STRATEGIES as readonly string[]).includes(value)) {
    throw new UsageError(`--strategy must be one of ${CREATE_STRATEGIES.join(', ')}`);
  }
  return value as CreateStrategy;
}

/** --install-timeout SECONDS, as milliseconds (absent when not given). */
export function installTimeoutFrom(value: string | undefined): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError('--install-timeout is a whole number of seconds, at least 1');
  }
  return Number(value) * 1000;
}
