import { type AgentStateFile, parseStateFile, STATE_FILE } from './agent';
import type { Engine } from './docker/engine';

/**
 * The state files of ready agents, by container id. A ready agent's state
 * file does not change while its container runs, so each is read once; the
 * creator records the ones it writes, so a new agent costs no read at all.
 */
export class ReadyStates {
  private readonly byContainer = new Map<string, AgentStateFile>();

  constructor(private readonly engine: Pick<Engine, 'readFile'>) {}

  remember(containerId: string, state: AgentStateFile): void {
    this.byContainer.set(containerId, state);
  }

  forget(containerId: string): void {
    this.byContainer.delete(containerId);
  }

  /** What is known without asking the engine (a stopped agent's last state). */
  known(containerId: string): AgentStateFile | undefined {
    return this.byContainer.get(containerId);
  }

  /** The running agent's state file: cached once ready, read from the container until then. */
  async read(containerId: string): Promise<AgentStateFile | undefined> {
    const cached = this.byContainer.get(containerId);
    if (cached) {
      return cached;
    }
    const content = await this.engine.readFile(containerId, STATE_FILE).catch(() => undefined);
    const state = parseStateFile(content?.toString('utf8'));
    if (state?.state === 'ready') {
      this.byContainer.set(containerId, state);
    }
    return state;
  }
}
