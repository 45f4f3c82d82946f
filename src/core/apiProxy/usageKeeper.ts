import { describeCause } from '../errors';
import { silentLogger, type Logger } from '../logger';
import type { AgentUsage } from './agentUsage';
import type { UsageStore } from './usageStore';

/** How long after a change the store is written: a stream's counts grow with each chunk, the file once in a while. */
export const USAGE_FLUSH_DELAY_MS = 1_500;

export interface UsageKeeperOptions {
  readonly delayMs?: number;
  readonly log?: Logger;
}

/**
 * Keeps a running proxy's counts in the store: what each agent used since the
 * last write is added to the file's totals a moment after a change, and when
 * the proxy closes. A write that fails (another process held the file too
 * long) is tried again at the next change; nothing is lost until then.
 */
export class UsageKeeper {
  /** The totals as last written, per agent: the next write adds only what came since. */
  private readonly written = new Map<string, AgentUsage>();
  /** Agents gone (revoked): what a stream of theirs still counts is not written. */
  private readonly gone = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Writes and forgets, one after another. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private failing = false;
  private readonly delayMs: number;
  private readonly log: Logger;

  constructor(
    private readonly store: Pick<UsageStore, 'add' | 'forget' | 'file'>,
    private readonly totals: () => ReadonlyMap<string, AgentUsage>,
    options: UsageKeeperOptions = {},
  ) {
    this.delayMs = options.delayMs ?? USAGE_FLUSH_DELAY_MS;
    this.log = options.log ?? silentLogger;
  }

  /** The counts changed: a write follows within the delay (not later: a long stream is written as it goes). */
  changed(): void {
    if (this.timer || this.closed) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.delayMs);
    // A process that has nothing else to do is not held up by it: close() writes what is left.
    this.timer.unref();
  }

  /** The agent (again) holds a token: its usage is written from now on. */
  granted(agentId: string): void {
    this.gone.delete(agentId);
  }

  /** The agent went: its usage leaves the store, and is not written again. */
  forget(agentId: string): Promise<void> {
    this.gone.add(agentId);
    return this.enqueue(async () => {
      this.written.delete(agentId);
      await this.store.forget([agentId]);
    });
  }

  /** Writes what came since the last write now. */
  flush(): Promise<void> {
    return this.enqueue(() => this.write());
  }

  /** Writes what is left; no write is scheduled after. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step).catch((error: unknown) => this.log.warn(`API usage: ${describeCause(error)}`));
    this.queue = next;
    return next;
  }

  private async write(): Promise<void> {
    const totals = this.totals();
    const deltas = new Map<string, AgentUsage>();
    for (const [agentId, total] of totals) {
      const delta = this.gone.has(agentId) ? undefined : usageSince(total, this.written.get(agentId));
      if (delta) {
        deltas.set(agentId, delta);
      }
    }
    if (deltas.size === 0) {
      return;
    }
    try {
      await this.store.add(deltas);
    } catch (error) {
      if (!this.failing) {
        this.log.warn(`API usage: cannot keep the agents' usage in ${this.store.file} (tried again at the next change): ${describeCause(error)}`);
      }
      this.failing = true;
      this.changed();
      return;
    }
    this.failing = false;
    for (const agentId of deltas.keys()) {
      const total = totals.get(agentId);
      if (total) {
        this.written.set(agentId, total);
      }
    }
  }
}

/**
 * What `total` holds beyond `before`; undefined when nothing. Counts only
 * grow, so one that is lower than before means they started again (the agent
 * was revoked and granted anew): all of `total` is new. Pure.
 */
export function usageSince(total: AgentUsage, before: AgentUsage | undefined): AgentUsage | undefined {
  const fields = Object.keys(total) as (keyof AgentUsage)[];
  const restarted = !before || fields.some((field) => total[field] < before[field]);
  const delta = Object.fromEntries(fields.map((field) => [field, restarted ? total[field] : total[field] - (before?.[field] ?? 0)])) as unknown as AgentUsage;
  return fields.some((field) => delta[field] > 0) ? delta : undefined;
}

