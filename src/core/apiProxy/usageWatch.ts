import { Emitter, type Disposable } from '../base/event';
import type { AgentUsage } from './agentUsage';
import type { UsageStore } from './usageStore';

/** How often the kept usage is looked at: one stat, read again only when the file changed. */
export const USAGE_WATCH_INTERVAL_MS = 2_000;

/**
 * The kept usage of every agent as it changes, whichever process serves the
 * proxy (this window, another, the CLI's task): the store's file is looked at
 * every interval, read again when it changed, and the agents whose figures
 * changed are told.
 */
export class UsageWatch implements Disposable {
  private readonly changed = new Emitter<readonly string[]>();
  /** The ids of the agents whose usage changed. */
  readonly onDidChange = this.changed.event;
  private figures: ReadonlyMap<string, AgentUsage> = new Map();
  private stamp: string | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Pick<UsageStore, 'read' | 'stamp'>,
    intervalMs = USAGE_WATCH_INTERVAL_MS,
  ) {
    this.look();
    this.timer = setInterval(() => this.look(), intervalMs);
    this.timer.unref();
  }

  /** The agent's usage as last read; undefined when it has none. */
  of(agentId: string): AgentUsage | undefined {
    return this.figures.get(agentId);
  }

  /** Reads the file again if it changed since the last look, and tells who changed. */
  look(): void {
    const stamp = this.store.stamp();
    if (stamp === this.stamp) {
      return;
    }
    this.stamp = stamp;
    const before = this.figures;
    this.figures = stamp === undefined ? new Map() : this.store.read();
    const ids = [...new Set([...before.keys(), ...this.figures.keys()])].filter((id) => JSON.stringify(before.get(id)) !== JSON.stringify(this.figures.get(id)));
    if (ids.length > 0) {
      this.changed.fire(ids);
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.changed.dispose();
  }
}
