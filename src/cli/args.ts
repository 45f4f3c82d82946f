import { parseArgs } from 'node:util';
import { CREATE_STRATEGIES, type CreateStrategy } from '../core/agent';
import { parseMemory, validateLimits, type AgentLimits } from '../core/limits/agentLimits';
import { UsageError } from './errors';

/** Every flag of every command in one table: any flag is accepted before or after any command. */
const OPTIONS = {
  repo: { type: 'string' },
  base: { type: 'string' },
  image: { type: 'string' },
  network: { type: 'string' },
  'docker-host': { type: 'string' },
  strategy: { type: 'string' },
  depth: { type: 'string' },
  filter: { type: 'string' },
  count: { type: 'string' },
  prefix: { type: 'string' },
  prune: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  forward: { type: 'boolean' },
  'copy-from': { type: 'string' },
  memory: { type: 'string' },
  cpus: { type: 'string' },
  pids: { type: 'string' },
  force: { type: 'boolean' },
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

/** The limits --memory, --cpus and --pids give (only those given); the core's message when one is out of range. */
export function limitsFrom(flags: Pick<Flags, 'memory' | 'cpus' | 'pids'>): Partial<AgentLimits> {
  const limits: { -readonly [K in keyof AgentLimits]?: AgentLimits[K] } = {};
  if (flags.memory !== undefined) {
    limits.memoryBytes = parseMemory(flags.memory);
  }
  if (flags.cpus !== undefined) {
    limits.cpus = Number(flags.cpus);
  }
  if (flags.pids !== undefined) {
    limits.pids = Number(flags.pids);
  }
  validateLimits(limits);
  return limits;
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
