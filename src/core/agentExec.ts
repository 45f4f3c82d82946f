import { WORKSPACE } from './agent';
import { inspectAgent } from './agentLookup';
import type { Disposable } from './base/event';
import type { Engine } from './docker/engine';
import type { ExecOptions, ExecResult } from './docker/exec';
import { ExecChannel } from './docker/execChannel';
import { InteractiveExec, type InteractiveOptions } from './docker/interactiveExec';
import { AgentNotRunningError, describeCause } from './errors';
import { silentLogger, type Logger } from './logger';

export type RunOptions = Pick<ExecOptions, 'signal' | 'timeoutMs' | 'onStdout' | 'onStderr'>;

/**
 * Runs commands in agents' /workspace: what git, stats, ports, dev servers and
 * the round trip need of an agent, and nothing more. Each agent gets one
 * long-lived exec channel, opened on its first command, so a command costs
 * what it costs instead of an engine round trip; a plain exec is the fallback.
 */
export class AgentExec implements Disposable {
  private readonly channels = new Map<string, ExecChannel>();

  constructor(
    private readonly engine: Engine,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Runs `git <args>` in the agent's clone. The words are passed as they are: no shell. */
  git(id: string, args: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    return this.run(id, ['git', ...args], options);
  }

  /** Runs a command (an argument array) in the agent's /workspace through its exec channel. */
  async run(id: string, argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    const channel = this.channels.get(id);
    if (channel?.isOpen) {
      try {
        return await channel.run(argv, { workdir: WORKSPACE, ...options });
      } catch (error) {
        if (channel.isOpen) {
          throw error;
        }
        // The channel died (agent stopped or removed): fall through to a fresh look.
      }
    }
    const containerId = await this.runningContainer(id);
    const opened = await ExecChannel.open(this.engine, containerId).catch((error: unknown) => {
      this.log.debug(`no exec channel for '${id}': ${describeCause(error)}`);
      return undefined;
    });
    if (opened) {
      this.channels.set(id, opened);
      return opened.run(argv, { workdir: WORKSPACE, ...options });
    }
    return this.engine.exec(containerId, argv, { workdir: WORKSPACE, ...options });
  }

  /** Runs a command beside the channel, for one that would hold it for long (following a log). */
  async runAside(id: string, argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    return this.engine.exec(await this.runningContainer(id), argv, { workdir: WORKSPACE, ...options });
  }

  /** A TTY in the agent's container at /workspace (a login shell unless `command` says otherwise), for a terminal. */
  openInteractive(containerId: string, options: Omit<InteractiveOptions, 'workdir'> = {}): Promise<InteractiveExec> {
    return InteractiveExec.open(this.engine, containerId, { workdir: WORKSPACE, ...options });
  }

  /** Closes the agent's channel (it stops or goes). */
  forget(id: string): void {
    this.channels.get(id)?.close();
    this.channels.delete(id);
  }

  /** Closes every channel this process opened. */
  dispose(): void {
    for (const channel of this.channels.values()) {
      channel.close();
    }
    this.channels.clear();
  }

  private async runningContainer(id: string): Promise<string> {
    const info = await inspectAgent(this.engine, id);
    if (!info.State.Running) {
      throw new AgentNotRunningError(id, 'stopped');
    }
    return info.Id;
  }
}
