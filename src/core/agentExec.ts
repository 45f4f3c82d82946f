import { WORKSPACE } from './agent';
import { inspectAgent } from './agentLookup';
import { withTimeout } from './base/abort';
import type { Disposable } from './base/event';
import type { Engine } from './docker/engine';
import type { ExecOptions, ExecResult } from './docker/exec';
import { ExecChannel } from './docker/execChannel';
import { InteractiveExec, type InteractiveOptions } from './docker/interactiveExec';
import { AgentNotRunningError, ChannelClosedError, describeCause, OutcomeUnknownError } from './errors';
import { silentLogger, type Logger } from './logger';

export type RunOptions = Pick<ExecOptions, 'signal' | 'timeoutMs' | 'onStdout' | 'onStderr' | 'maxOutputBytes'>;
export type ProbeOptions = Pick<ExecOptions, 'signal' | 'timeoutMs' | 'maxOutputBytes'>;

/** A probe that takes longer is given up (and its process ended). */
export const PROBE_TIMEOUT_MS = 5_000;
/** What a probe keeps of its output: its readings are a few kilobytes. */
export const PROBE_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Each agent has up to two channels. Commands (git, what the user runs, dev
 * start and stop) share one, in order, as a user would type them. gitiso's own
 * probes (stats, ports, dev status) have their own, so a long or hung git
 * command never holds up the figures, the tree or a port discovery: probes are
 * short, read-only and always bounded in time and output.
 */
type Lane = 'commands' | 'probes';

/**
 * Runs commands in agents' /workspace: what git, stats, ports, dev servers and
 * the round trip need of an agent, and nothing more. The channels are opened
 * on first use, so a command costs what it costs instead of an engine round
 * trip; a plain exec is the fallback.
 */
export class AgentExec implements Disposable {
  private readonly lanes: Record<Lane, Map<string, Promise<ExecChannel | undefined>>> = { commands: new Map(), probes: new Map() };

  constructor(
    private readonly engine: Engine,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Runs `git <args>` in the agent's clone. The words are passed as they are: no shell. */
  git(id: string, args: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    return this.run(id, ['git', ...args], options);
  }

  /**
   * Runs a command (an argument array) in the agent's /workspace through its
   * command channel. A command whose channel closed under it fails with
   * OutcomeUnknownError and is never run again: it may have taken effect. Only
   * one that never started goes to a fresh channel.
   */
  async run(id: string, argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    // Only a command that never started (its channel had closed: the agent restarted?) goes to a fresh channel.
    return this.onLane(id, argv, { lane: 'commands', options: { workdir: WORKSPACE, ...options }, mayRetry: (error) => error instanceof ChannelClosedError });
  }

  /**
   * Runs one of gitiso's own read-only probes on the agent's probe channel,
   * beside its commands. Bounded: PROBE_TIMEOUT_MS and PROBE_MAX_OUTPUT_BYTES
   * unless told otherwise. A probe only reads, so one whose channel died runs
   * again, once, on a fresh channel.
   */
  async probe(id: string, argv: readonly string[], options: ProbeOptions = {}): Promise<ExecResult> {
    const full: ExecOptions = {
      workdir: WORKSPACE,
      signal: withTimeout(options.signal, options.timeoutMs ?? PROBE_TIMEOUT_MS),
      maxOutputBytes: options.maxOutputBytes ?? PROBE_MAX_OUTPUT_BYTES,
    };
    return this.onLane(id, argv, { lane: 'probes', options: full, mayRetry: (error) => error instanceof ChannelClosedError || error instanceof OutcomeUnknownError });
  }

  /** Runs `argv` on the lane's channel (a plain exec when none opens); after a failure `mayRetry` allows, once more on a fresh channel. */
  private async onLane(id: string, argv: readonly string[], how: { readonly lane: Lane; readonly options: ExecOptions; readonly mayRetry: (error: unknown) => boolean }): Promise<ExecResult> {
    for (let attempt = 0; ; attempt++) {
      const channel = await this.channel(id, how.lane);
      if (!channel) {
        return this.engine.exec(await this.runningContainer(id), argv, how.options);
      }
      try {
        return await channel.run(argv, how.options);
      } catch (error) {
        if (attempt > 0 || !how.mayRetry(error)) {
          throw error;
        }
      }
    }
  }

  /** Runs a command beside the channels, for one that would hold a channel for long (following a log). */
  async runAside(id: string, argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    return this.engine.exec(await this.runningContainer(id), argv, { workdir: WORKSPACE, ...options });
  }

  /** A TTY in the agent's container at /workspace (a login shell unless `command` says otherwise), for a terminal. */
  openInteractive(containerId: string, options: Omit<InteractiveOptions, 'workdir'> = {}): Promise<InteractiveExec> {
    return InteractiveExec.open(this.engine, containerId, { workdir: WORKSPACE, ...options });
  }

  /** Closes the agent's channels (it stops or goes). */
  forget(id: string): void {
    for (const channels of Object.values(this.lanes)) {
      void channels.get(id)?.then((channel) => channel?.close());
      channels.delete(id);
    }
  }

  /** Closes every channel this process opened. */
  dispose(): void {
    for (const channels of Object.values(this.lanes)) {
      for (const opening of channels.values()) {
        void opening.then((channel) => channel?.close());
      }
      channels.clear();
    }
  }

  /** The agent's open channel of the lane; undefined when none can be opened (then a plain exec does). */
  private async channel(id: string, lane: Lane): Promise<ExecChannel | undefined> {
    const channels = this.lanes[lane];
    const known = channels.get(id);
    const channel = await known?.catch(() => undefined);
    if (channel?.isOpen) {
      return channel;
    }
    // First use, or the channel died (the agent restarted). Concurrent callers share one opening.
    const latest = channels.get(id);
    if (latest && latest !== known) {
      return this.channel(id, lane);
    }
    const opening = this.open(id);
    channels.set(id, opening);
    opening.then(
      (opened) => {
        if (!opened && channels.get(id) === opening) {
          channels.delete(id); // try again next time
        }
      },
      () => {
        if (channels.get(id) === opening) {
          channels.delete(id);
        }
      },
    );
    return opening;
  }

  private async open(id: string): Promise<ExecChannel | undefined> {
    const containerId = await this.runningContainer(id);
    return ExecChannel.open(this.engine, containerId).catch((error: unknown) => {
      this.log.debug(`no exec channel for '${id}': ${describeCause(error)}`);
      return undefined;
    });
  }

  private async runningContainer(id: string): Promise<string> {
    const info = await inspectAgent(this.engine, id);
    if (!info.State.Running) {
      throw new AgentNotRunningError(id, 'stopped');
    }
    return info.Id;
  }
}
