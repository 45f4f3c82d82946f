import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeCause } from '../errors';
import { PoolLock } from '../git/poolLock';
import { silentLogger, type Logger } from '../logger';
import { validateAgentId } from '../names';
import type { AgentUsage } from './agentUsage';

/** The file, in gitiso's storage, that keeps each agent's API usage between processes. */
export const USAGE_FILE = 'api-usage.json';
/** The most read or written: an entry is about 150 bytes, so thousands of agents fit. */
export const MAX_USAGE_FILE_BYTES = 1024 * 1024;
/** How long an update waits for another process's (an update takes milliseconds). */
const LOCK_WAIT_MS = 5_000;
const FIELDS = ['requests', 'bytesIn', 'bytesOut', 'inputTokens', 'outputTokens', 'refused'] as const;

/** An agent's usage as kept, with when it last grew (what goes first when the file would be too large). */
interface KeptUsage extends AgentUsage {
  readonly updatedAt: number;
}

export interface UsageStoreOptions {
  readonly log?: Logger;
  /** MAX_USAGE_FILE_BYTES unless told otherwise (tests). */
  readonly maxBytes?: number;
}

/**
 * Each agent's API usage, kept on the host across processes and reloads: the
 * process that serves the key proxy adds what its agents used since its last
 * write (`add`), so a reloaded window or the CLI go on from the totals; any
 * process reads them. Updates take a lock and replace the file whole (a
 * temporary file renamed over it, readable by the user alone). The file is
 * the host's own, but what is read is bounded and checked: a file too large
 * or not one of these counts as empty, with a line in the log.
 */
export class UsageStore {
  private readonly log: Logger;
  private readonly maxBytes: number;
  /** The stamp of the file last found unreadable: said once, not at every read. */
  private reported: string | undefined;

  constructor(
    readonly file: string,
    options: UsageStoreOptions = {},
  ) {
    this.log = options.log ?? silentLogger;
    this.maxBytes = options.maxBytes ?? MAX_USAGE_FILE_BYTES;
  }

  /** Every agent's usage as the file holds it now (empty when there is none). */
  read(): Map<string, AgentUsage> {
    return new Map([...this.entries()].map(([id, kept]) => [id, countsOf(kept)]));
  }

  /** What tells one version of the file from another (a watcher reads it again only when this changes); undefined when there is none. */
  stamp(): string | undefined {
    try {
      const stat = statSync(this.file);
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return undefined;
    }
  }

  /** Adds each agent's usage since the caller's last `add` to the totals. */
  async add(deltas: ReadonlyMap<string, AgentUsage>): Promise<void> {
    const now = Date.now();
    await this.update((entries) => {
      for (const [agentId, delta] of deltas) {
        if (!isAgentId(agentId)) {
          continue;
        }
        const kept = entries.get(agentId);
        const sum = countsOf(Object.fromEntries(FIELDS.map((field) => [field, Math.min(Number.MAX_SAFE_INTEGER, (kept?.[field] ?? 0) + delta[field])])));
        entries.set(agentId, { ...sum, updatedAt: now });
      }
      return deltas.size > 0;
    });
  }

  /** Drops the agents' usage (they were removed). */
  async forget(agentIds: readonly string[]): Promise<void> {
    await this.update((entries) => agentIds.map((id) => entries.delete(id)).some(Boolean));
  }

  /** Drops the usage of every agent not in `agentIds` (removed while no gitiso process ran). */
  async keepOnly(agentIds: Iterable<string>): Promise<void> {
    const live = new Set(agentIds);
    await this.update((entries) => [...entries.keys()].filter((id) => !live.has(id)).map((id) => entries.delete(id)).some(Boolean));
  }

  /** Under the lock: reads the entries, lets `change` change them, and writes them back when it says it did. */
  private async update(change: (entries: Map<string, KeptUsage>) => boolean): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    const lock = await PoolLock.acquire(`${this.file}.lock`, { maxWaitMs: LOCK_WAIT_MS, what: 'the API usage file' });
    try {
      const entries = this.entries();
      if (change(entries)) {
        this.write(entries);
      }
    } finally {
      lock.release();
    }
  }

  private entries(): Map<string, KeptUsage> {
    let text: string | undefined;
    try {
      text = this.readBounded();
    } catch (error) {
      this.report(`cannot be read (${describeCause(error)})`);
      return new Map();
    }
    if (text === undefined) {
      return new Map();
    }
    const entries = parseUsageFile(text);
    if (!entries) {
      this.report('is not a file of API usage');
      return new Map();
    }
    return entries;
  }

  /** The file's text; undefined when there is none; an error when it is larger than the bound. */
  private readBounded(): string | undefined {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return undefined;
      }
      throw error;
    }
    try {
      const size = fstatSync(fd).size;
      if (size > this.maxBytes) {
        throw new Error(`${size} bytes, more than the ${this.maxBytes} read`);
      }
      const buffer = Buffer.alloc(size);
      let read = 0;
      while (read < size) {
        const n = readSync(fd, buffer, read, size - read, read);
        if (n === 0) {
          break;
        }
        read += n;
      }
      return buffer.toString('utf8', 0, read);
    } finally {
      closeSync(fd);
    }
  }

  /** Replaces the file whole: the most recently used agents first, as many as fit in the bound. */
  private write(entries: ReadonlyMap<string, KeptUsage>): void {
    const lines: string[] = [];
    let bytes = 64;
    for (const [id, usage] of [...entries].sort(([, a], [, b]) => b.updatedAt - a.updatedAt)) {
      const line = `${JSON.stringify(id)}:${JSON.stringify(usage)}`;
      bytes += Buffer.byteLength(line) + 2;
      if (bytes > this.maxBytes) {
        this.log.warn(`API usage: ${this.file} would be larger than ${this.maxBytes} bytes: the usage of ${entries.size - lines.length} agent(s) used longest ago is dropped`);
        break;
      }
      lines.push(line);
    }
    const aside = `${this.file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(aside, `{"version":1,"agents":{\n${lines.join(',\n')}\n}}\n`, { mode: 0o600 });
      renameSync(aside, this.file);
    } catch (error) {
      rmSync(aside, { force: true });
      throw error;
    }
  }

  private report(problem: string): void {
    const stamp = this.stamp();
    if (stamp !== this.reported) {
      this.reported = stamp;
      this.log.warn(`API usage: ${this.file} ${problem}: the agents' usage starts again from nothing`);
    }
  }
}

/** The entries of a usage file's text; undefined when it is not one. Entries that are not an agent's counts are left out. */
export function parseUsageFile(text: string): Map<string, KeptUsage> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value.version !== 1 || !isRecord(value.agents)) {
    return undefined;
  }
  const entries = new Map<string, KeptUsage>();
  for (const [id, usage] of Object.entries(value.agents)) {
    if (isAgentId(id) && isRecord(usage) && FIELDS.every((field) => isCount(usage[field])) && isCount(usage.updatedAt)) {
      entries.set(id, { ...countsOf(usage), updatedAt: usage.updatedAt });
    }
  }
  return entries;
}

/** The counts alone, in their order (never another field of what was read). */
function countsOf(source: object): AgentUsage {
  return Object.fromEntries(FIELDS.map((field) => [field, (source as Record<string, unknown>)[field]])) as unknown as AgentUsage;
}

function isAgentId(id: string): boolean {
  try {
    validateAgentId(id);
    return true;
  } catch {
    return false;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
