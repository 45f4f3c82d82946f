import { Emitter, type Disposable } from '../base/event';
import type { AgentStats, StatsSampler } from '../stats/statsSampler';

/**
 * Every engine's sampler read as one: the figures of all running agents (the
 * status bar totals them), each agent's history from its own engine's sampler.
 * Sampling is turned on and off for all together.
 */
export class StatsAcrossEngines implements Disposable {
  private readonly sampled = new Emitter<void>();
  readonly onDidSample = this.sampled.event;
  private merged: ReadonlyMap<string, AgentStats> = new Map();
  private readonly subscriptions: Disposable[];

  constructor(private readonly samplers: readonly StatsSampler[]) {
    this.subscriptions = samplers.map((sampler) =>
      sampler.onDidSample(() => {
        this.merged = new Map(samplers.flatMap((each) => [...each.current]));
        this.sampled.fire();
      }),
    );
  }

  /** The latest figures of every running agent on every engine. */
  get current(): ReadonlyMap<string, AgentStats> {
    return this.samplers.length === 1 ? (this.samplers[0] as StatsSampler).current : this.merged;
  }

  get active(): boolean {
    return this.samplers.some((sampler) => sampler.active);
  }

  history(agentId: string): readonly AgentStats[] {
    return this.samplers.map((sampler) => sampler.history(agentId)).find((history) => history.length > 0) ?? [];
  }

  /** Reads every engine's running agents now. */
  async sample(): Promise<ReadonlyMap<string, AgentStats>> {
    const maps = await Promise.all(this.samplers.map((sampler) => sampler.sample()));
    return new Map(maps.flatMap((map) => [...map]));
  }

  setActive(active: boolean): void {
    this.samplers.forEach((sampler) => sampler.setActive(active));
  }

  measureDiskSoon(): void {
    this.samplers.forEach((sampler) => sampler.measureDiskSoon());
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.sampled.dispose();
  }
}
