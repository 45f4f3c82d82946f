import { GitisoError, InvalidInputError } from '../errors';
import { shown } from '../names';

/**
 * What one agent may use. Every agent gets limits by default, so a burst of
 * agents cannot take the machine down, and is told them (GITISO_CPUS,
 * GITISO_MEMORY_BYTES, /etc/gitiso/budget.json) so the tools inside size
 * their parallelism to the container, not to the host.
 */
export interface AgentLimits {
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly pids: number;
}

const GIB = 1024 ** 3;

/** Sized for a laptop: a few agents fit in 8 to 16 GB. */
export const DEFAULT_LIMITS: AgentLimits = { memoryBytes: 2 * GIB, cpus: 2, pids: 512 };

export const BUDGET_FILE = '/etc/gitiso/budget.json';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: GIB, t: 1024 ** 4 };

/** The bounds of each limit: below, nothing useful runs (the engine's own floor is 6 MB); above, it is a typo. */
export const LIMIT_RANGE = {
  memoryBytes: { min: 64 * 1024 ** 2, max: 1024 ** 4 },
  cpus: { min: 0.1, max: 1024 },
  pids: { min: 16, max: 65536 },
} as const;

/** `2g`, `512m`, `1.5GB`, `2GiB` or a number of bytes. */
export function parseMemory(text: string | number): number {
  if (typeof text === 'number') {
    return validateMemory(text);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) {
    throw new InvalidInputError(`'${shown(text)}' is not an amount of memory: write it like 2g or 512m`);
  }
  return validateMemory(Math.round(Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? 1)));
}

/** `2`, `0.5`: plain decimals only (no `0x10`, `1e3` or `Infinity`, which Number() would take). */
export function parseCpus(text: string): number {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text)) {
    throw new InvalidInputError(`'${shown(text)}' is not a number of CPUs: write it like 2 or 0.5`);
  }
  return validateCpus(Number(text));
}

/** A whole number of processes. */
export function parsePids(text: string): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new InvalidInputError(`'${shown(text)}' is not a number of processes: write a whole number such as 512`);
  }
  return validatePids(Number(text));
}

function validateMemory(bytes: number): number {
  const { min, max } = LIMIT_RANGE.memoryBytes;
  if (!Number.isFinite(bytes) || bytes < min || bytes > max) {
    throw new InvalidInputError(`an agent needs a memory limit of at least 64m and at most 1t, not ${Number.isFinite(bytes) ? formatBytes(bytes) : bytes}`);
  }
  return bytes;
}

function validateCpus(cpus: number): number {
  const { min, max } = LIMIT_RANGE.cpus;
  if (!Number.isFinite(cpus) || cpus < min) {
    throw new InvalidInputError(`an agent needs at least ${min} CPUs`);
  }
  if (cpus > max) {
    throw new InvalidInputError(`an agent may have at most ${max} CPUs, not ${cpus}`);
  }
  return cpus;
}

function validatePids(pids: number): number {
  const { min, max } = LIMIT_RANGE.pids;
  if (!Number.isInteger(pids) || pids < min || pids > max) {
    throw new InvalidInputError(`an agent needs a process limit of at least ${min} and at most ${max}, as a whole number`);
  }
  return pids;
}

export function validateLimits(limits: Partial<AgentLimits>): AgentLimits {
  const merged = { ...DEFAULT_LIMITS, ...limits };
  validateMemory(merged.memoryBytes);
  validateCpus(merged.cpus);
  validatePids(merged.pids);
  return merged;
}

/** An amount of memory or disk for people: 1.5 GB, 512 MB, 12 KB, 0 B. */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB) {
    return `${(bytes / GIB).toFixed(1).replace(/\.0$/, '')} GB`;
  }
  if (bytes >= 1024 ** 2) {
    return `${Math.round(bytes / 1024 ** 2)} MB`;
  }
  return bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${Math.round(bytes)} B`;
}

export class AdmissionError extends GitisoError {}

/**
 * Refuses a burst that does not fit: the limits of running agents plus the new
 * ones against the engine's memory. Limits are ceilings, not reservations, so
 * `force` lets the user take the risk.
 */
export function checkAdmission(input: { count: number; memoryBytes: number; reservedBytes: number; totalBytes: number }): void {
  const { count, memoryBytes, reservedBytes, totalBytes } = input;
  if (count <= 0 || totalBytes <= 0 || reservedBytes + count * memoryBytes <= totalBytes) {
    return;
  }
  const agents = count === 1 ? '1 agent' : `${count} agents`;
  throw new AdmissionError(
    `${agents} of ${formatBytes(memoryBytes)} do${count === 1 ? 'es' : ''} not fit: ${formatBytes(reservedBytes)} of ${formatBytes(totalBytes)} already reserved by running agents. ` +
      'Remove or stop agents, lower the memory limit (gitiso.limits.memory, --memory), or create anyway (--force)',
  );
}

/** The environment that tells an agent its budget. */
export function budgetEnv(limits: AgentLimits): Record<string, string> {
  return { GITISO_CPUS: String(limits.cpus), GITISO_MEMORY_BYTES: String(limits.memoryBytes), GITISO_PIDS: String(limits.pids) };
}

/** The budget file's content, as written when a running agent's limits change (the same as withBudgetFile's). */
export function budgetJson(limits: AgentLimits): string {
  return JSON.stringify({ cpus: limits.cpus, memoryBytes: limits.memoryBytes, pids: limits.pids }) + '\n';
}

/**
 * Wraps a container's command so it first writes the budget file from the
 * budget variables (no value is spliced into the script), then runs as it was.
 */
export function withBudgetFile(command: readonly string[]): string[] {
  const script = `mkdir -p "${BUDGET_FILE.replace(/\/[^/]+$/, '')}" && printf '{"cpus":%s,"memoryBytes":%s,"pids":%s}\\n' "$GITISO_CPUS" "$GITISO_MEMORY_BYTES" "$GITISO_PIDS" > "${BUDGET_FILE}"; exec "$@"`;
  return ['sh', '-c', script, 'gitiso-budget', ...command];
}
