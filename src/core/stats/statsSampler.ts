import { type Agent, LABEL } from '../agent';
import type { AgentExec } from '../agentExec';
import type { Engine } from '../docker/engine';
import { setMaxListeners } from 'node:events';
import { Emitter, type Disposable } from '../base/event';
import { withTimeout } from '../base/abort';
import { describeCause } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { type CgroupReading, filesIn, parseCgroupReading, READ_COMMAND, readCommand } from './cgroupReading';

/** What an agent costs now. CPU is in percent of one core (200 % is two cores), as `docker stats` counts it. */
export interface AgentStats extends CgroupReading {
  readonly agentId: string;
  readonly cpuPercent: number;
  /** The container's writable layer (what the agent changed); sampled rarely, since the engine walks the files to measure it. */
  readonly diskBytes?: number;
  readonly sampledAt: number;
}

export interface StatsSamplerDeps {
  readonly exec: AgentExec;
  readonly engine: Pick<Engine, 'statsOnce' | 'listContainers'>;
  /** The agents to sample (the running ones). */
  readonly runningAgents: () => readonly Agent[] | Promise<readonly Agent[]>;
  readonly log?: Logger;
}

export interface StatsSamplerOptions {
  /** How often running agents are read; 2 s by default. */
  readonly intervalMs?: number;
  /** How often disk is measured; 60 s by default. */
  readonly diskIntervalMs?: number;
  /** How many samples each agent's history keeps (for charts); 150 by default (5 minutes at 2 s). */
  readonly historyLength?: number;
}

/** A reading is a few kilobytes; an agent's `head` may print anything. */
const MAX_READING_BYTES = 64 * 1024;

interface Previous {
  readonly cpuNanos: number;
  readonly at: number;
}

/**
 * Keeps every running agent's stats current, cheaply: each agent reads its own
 * cgroup files through its long-lived exec channel (one `head`, no engine
 * round trip, works on remote engines too), falling back to one engine stats
 * request; disk is measured rarely. It samples only while active: the UI
 * turns it on while the view or status bar is visible and the window focused.
 */
export class StatsSampler implements Disposable {
  private readonly sampled = new Emitter<ReadonlyMap<string, AgentStats>>();
  readonly onDidSample = this.sampled.event;
  private readonly latest = new Map<string, AgentStats>();
  private readonly histories = new Map<string, AgentStats[]>();
  private readonly previous = new Map<string, Previous>();
  private readonly disk = new Map<string, number>();
  /** Per agent, the command that reads only the files it has (learned from its first reading). */
  private readonly commands = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  private diskMeasuredAt = 0;
  private sampling: Promise<ReadonlyMap<string, AgentStats>> | undefined;
  /** Aborted when the sampler is disposed: a round still running (a change of engine) stops asking. */
  private readonly disposal = new AbortController();
  private readonly intervalMs: number;
  private readonly diskIntervalMs: number;
  private readonly historyLength: number;

  private readonly exec: AgentExec;
  private readonly engine: Pick<Engine, 'statsOnce' | 'listContainers'>;
  private readonly runningAgents: () => readonly Agent[] | Promise<readonly Agent[]>;
  private readonly log: Logger;

  constructor(deps: StatsSamplerDeps, options: StatsSamplerOptions = {}) {
    this.exec = deps.exec;
    this.engine = deps.engine;
    this.runningAgents = deps.runningAgents;
    this.log = deps.log ?? silentLogger;
    this.intervalMs = options.intervalMs ?? 2_000;
    this.diskIntervalMs = options.diskIntervalMs ?? 60_000;
    this.historyLength = options.historyLength ?? 150;
  }

  get current(): ReadonlyMap<string, AgentStats> {
    return this.latest;
  }

  get active(): boolean {
    return this.timer !== undefined;
  }

  /** The agent's samples, oldest first. */
  history(agentId: string): readonly AgentStats[] {
    return this.histories.get(agentId) ?? [];
  }

  /** Starts or stops the periodic sampling (a start samples at once). */
  setActive(active: boolean): void {
    if (active && !this.timer) {
      void this.sample();
      this.timer = setInterval(() => void this.sample(), this.intervalMs);
      this.timer.unref?.();
    } else if (!active && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Reads every running agent now; concurrent callers share one round. */
  sample(): Promise<ReadonlyMap<string, AgentStats>> {
    this.sampling ??= this.sampleAll().finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  /** Measures disk at the next sample (on demand: Show Stats, `gitiso stats`). */
  measureDiskSoon(): void {
    this.diskMeasuredAt = 0;
  }

  private async sampleAll(): Promise<ReadonlyMap<string, AgentStats>> {
    const agents = await Promise.resolve(this.runningAgents()).catch(() => [] as readonly Agent[]);
    const running = new Set(agents.map((agent) => agent.id));
    if (Date.now() - this.diskMeasuredAt >= this.diskIntervalMs && agents.length > 0) {
      this.diskMeasuredAt = Date.now();
      await this.measureDisk();
    }
    // One timeout for the round, not a timer per agent: sampling must stay cheap.
    const signal = withTimeout(this.disposal.signal, 5_000) as AbortSignal;
    setMaxListeners(agents.length + 10, signal); // one listener per agent's read is expected, not a leak
    await Promise.all(agents.map((agent) => this.sampleAgent(agent, signal)));
    // Stopped or removed agents leave the figures (and their history).
    for (const id of [...this.latest.keys()]) {
      if (!running.has(id)) {
        this.latest.delete(id);
        this.histories.delete(id);
        this.previous.delete(id);
        this.commands.delete(id);
      }
    }
    this.sampled.fire(this.latest);
    return this.latest;
  }

  private async sampleAgent(agent: Agent, signal: AbortSignal): Promise<void> {
    const reading = await this.read(agent, signal);
    if (!reading) {
      return;
    }
    const now = Date.now();
    const before = this.previous.get(agent.id);
    this.previous.set(agent.id, { cpuNanos: reading.cpuNanos, at: now });
    const elapsedNanos = before ? (now - before.at) * 1e6 : 0;
    const cpuPercent = before && elapsedNanos > 0 ? Math.max(0, ((reading.cpuNanos - before.cpuNanos) / elapsedNanos) * 100) : 0;
    const stats: AgentStats = { ...reading, agentId: agent.id, cpuPercent, diskBytes: this.disk.get(agent.id), sampledAt: now };
    this.latest.set(agent.id, stats);
    const history = this.histories.get(agent.id) ?? [];
    history.push(stats);
    if (history.length > this.historyLength) {
      history.splice(0, history.length - this.historyLength);
    }
    this.histories.set(agent.id, history);
  }

  /**
   * The agent's cgroup files through its probe channel (beside its commands,
   * so a long git command does not hold the figures up); else one engine stats
   * request. What `head` prints is the agent's: more than a reading holds, or
   * no reading at all, is unknown.
   */
  private async read(agent: Agent, signal: AbortSignal): Promise<CgroupReading | undefined> {
    try {
      const known = this.commands.get(agent.id);
      const result = await this.exec.probe(agent.id, known ?? READ_COMMAND, { signal, maxOutputBytes: MAX_READING_BYTES });
      const reading = result.truncated ? undefined : parseCgroupReading(result.stdout);
      if (reading) {
        if (!known) {
          this.commands.set(agent.id, readCommand(filesIn(result.stdout)));
        }
        return reading;
      }
      this.commands.delete(agent.id); // the files moved (the container restarted elsewhere?): read them all next time
    } catch (error) {
      this.log.debug(`stats of '${agent.id}' through its channel: ${describeCause(error)}`);
      if (signal.aborted) {
        // The round's time is up (a busy engine) or the sampler is gone: an engine stats request, a second's work
        // for the engine per agent, would only make a busy engine busier. The next round asks again.
        return undefined;
      }
    }
    try {
      const stats = (await this.engine.statsOnce(agent.containerId)) as EngineStats;
      return fromEngineStats(stats);
    } catch (error) {
      this.log.debug(`stats of '${agent.id}' from the engine: ${describeCause(error)}`);
      return undefined;
    }
  }

  /** One engine request for every agent's writable layer size. */
  private async measureDisk(): Promise<void> {
    try {
      const containers = await this.engine.listContainers(LABEL.agent, { size: true });
      for (const container of containers) {
        const id = container.Labels[LABEL.agent];
        if (id && container.SizeRw !== undefined) {
          this.disk.set(id, container.SizeRw);
        }
      }
    } catch (error) {
      this.log.debug(`disk of agents: ${describeCause(error)}`);
    }
  }

  dispose(): void {
    this.setActive(false);
    this.disposal.abort();
    this.sampled.dispose();
  }
}

interface EngineStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats?: { current?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
}

/** The engine's stats in the same shape (it does not count OOM kills). */
export function fromEngineStats(stats: EngineStats): CgroupReading {
  const memory = stats.memory_stats ?? {};
  const inactive = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file ?? 0;
  const networks = Object.values(stats.networks ?? {});
  const io = stats.blkio_stats?.io_service_bytes_recursive ?? [];
  return {
    cpuNanos: stats.cpu_stats?.cpu_usage?.total_usage ?? 0,
    memoryBytes: Math.max(0, (memory.usage ?? 0) - inactive),
    memoryLimitBytes: memory.limit,
    pids: stats.pids_stats?.current ?? 0,
    oomKills: 0,
    netRxBytes: networks.reduce((sum, n) => sum + (n.rx_bytes ?? 0), 0),
    netTxBytes: networks.reduce((sum, n) => sum + (n.tx_bytes ?? 0), 0),
    blockReadBytes: io.filter((e) => /^read$/i.test(e.op)).reduce((sum, e) => sum + e.value, 0),
    blockWriteBytes: io.filter((e) => /^write$/i.test(e.op)).reduce((sum, e) => sum + e.value, 0),
  };
}
