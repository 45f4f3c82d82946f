import { type AgentStateFile, parseStateFile, STATE_FILE } from './agent';
import type { Engine } from './docker/engine';
import { describeCause, TooLargeError } from './errors';
import { silentLogger, type Logger } from './logger';

/** A state file is a few hundred bytes; the agent can write anything there, so no more than this is read. */
export const MAX_STATE_FILE_BYTES = 64 * 1024;

/**
 * The state files of ready agents, by container id. A ready agent's state
 * file does not change while its container runs, so each is read once; the
 * creator records the ones it writes, so a new agent costs no read at all.
 */
export class ReadyStates {
  private readonly byContainer = new Map<string, AgentStateFile>();
  /** Containers whose invalid state file was logged already (once is enough). */
  private readonly warned = new Set<string>();

  constructor(
    private readonly engine: Pick<Engine, 'readFile'>,
    private readonly log: Logger = silentLogger,
  ) {}

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
    const content = await this.engine.readFile(containerId, STATE_FILE, { maxBytes: MAX_STATE_FILE_BYTES }).catch((error: unknown) => {
      if (error instanceof TooLargeError && !this.warned.has(containerId)) {
        this.warned.add(containerId);
        this.log.warn(`the state file of container ${containerId.slice(0, 12)} is invalid: ${describeCause(error)}`);
      }
      return undefined;
    });
    const state = parseStateFile(content?.toString('utf8'));
    if (state?.state === 'ready') {
      this.byContainer.set(containerId, state);
    }
    return state;
  }
}
