import type { TokenUsage } from './tokenUsage';

/** What one agent did through the proxy. */
export interface AgentUsage {
  readonly requests: number;
  /** Request bodies sent upstream. */
  readonly bytesIn: number;
  /** Response bodies sent back to the agent. */
  readonly bytesOut: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Requests refused (token, grant, path, headers, size). */
  readonly refused: number;
}

const ZERO: AgentUsage = { requests: 0, bytesIn: 0, bytesOut: 0, inputTokens: 0, outputTokens: 0, refused: 0 };

/** Counts per agent, added to as bytes pass (so a long stream shows while it runs). */
export class AgentUsageCounts {
  private readonly counts = new Map<string, { -readonly [K in keyof AgentUsage]: number }>();

  /** `onChange`: told after each count (cheaply: the store's keeper only sets a timer). */
  constructor(private readonly onChange: () => void = () => undefined) {}

  of(agentId: string): AgentUsage {
    return { ...(this.counts.get(agentId) ?? ZERO) };
  }

  all(): ReadonlyMap<string, AgentUsage> {
    return new Map([...this.counts].map(([id, usage]) => [id, { ...usage }]));
  }

  request(agentId: string): void {
    this.entry(agentId).requests++;
  }

  refused(agentId: string): void {
    this.entry(agentId).refused++;
  }

  bytes(agentId: string, direction: 'in' | 'out', count: number): void {
    const entry = this.entry(agentId);
    if (direction === 'in') {
      entry.bytesIn += count;
    } else {
      entry.bytesOut += count;
    }
  }

  tokens(agentId: string, usage: TokenUsage): void {
    const entry = this.entry(agentId);
    entry.inputTokens += usage.inputTokens;
    entry.outputTokens += usage.outputTokens;
  }

  /** Forgets an agent that is gone. */
  forget(agentId: string): void {
    this.counts.delete(agentId);
  }

  /** The agent's counts, to be added to: the change is told first (nothing is read before the caller returns). */
  private entry(agentId: string): { -readonly [K in keyof AgentUsage]: number } {
    this.onChange();
    let entry = this.counts.get(agentId);
    if (!entry) {
      entry = { ...ZERO };
      this.counts.set(agentId, entry);
    }
    return entry;
  }
}
