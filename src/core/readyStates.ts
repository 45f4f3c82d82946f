import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentStateFile, parseStateFile, STATE_FILE } from './agent';
import type { Engine } from './docker/engine';
import { describeCause, TooLargeError } from './errors';
import { silentLogger, type Logger } from './logger';

/** A state file is a few hundred bytes; the agent can write anything there, so no more than this is read. */
export const MAX_STATE_FILE_BYTES = 64 * 1024;

/** The folder, in gitiso's storage, where ready agents' state files are kept by container id. */
export const READY_STATES_DIR = 'ready-states';

/** An engine's container id: the only names the saved states get. */
const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

/**
 * The state files of ready agents, by container id. A ready agent's state
 * file does not change for its container's life (a restart keeps it), so each
 * is read once; the creator records the ones it writes, so a new agent costs
 * no read at all. With a folder, what was learned is kept there too, for the
 * next window or CLI: a window opening on 100 agents reads no container.
 */
export class ReadyStates {
  private readonly byContainer = new Map<string, AgentStateFile>();
  /** Containers whose invalid state file was logged already (once is enough). */
  private readonly warned = new Set<string>();

  constructor(
    private readonly engine: Pick<Engine, 'readFile'>,
    private readonly log: Logger = silentLogger,
    private readonly dir?: string,
  ) {}

  remember(containerId: string, state: AgentStateFile): void {
    this.byContainer.set(containerId, state);
    this.save(containerId, state);
  }

  forget(containerId: string): void {
    this.byContainer.delete(containerId);
    const file = this.fileOf(containerId);
    if (file) {
      rmSync(file, { force: true });
    }
  }

  /** Forgets the saved states of containers that are gone (removed behind gitiso's back). */
  keepOnly(containerIds: Iterable<string>): void {
    if (!this.dir) {
      return;
    }
    const live = new Set(containerIds);
    let saved: string[];
    try {
      saved = readdirNames(this.dir);
    } catch {
      return;
    }
    for (const name of saved.filter((name) => !live.has(name.replace(/\.json$/, '')))) {
      rmSync(join(this.dir, name), { force: true });
    }
  }

  /** What is known without asking the engine (a stopped agent's last state). */
  known(containerId: string): AgentStateFile | undefined {
    return this.byContainer.get(containerId);
  }

  /** The running agent's state file: cached once ready, read from the container until then. */
  async read(containerId: string): Promise<AgentStateFile | undefined> {
    const cached = this.byContainer.get(containerId) ?? this.saved(containerId);
    if (cached) {
      this.byContainer.set(containerId, cached);
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
      this.remember(containerId, state);
    }
    return state;
  }

  private fileOf(containerId: string): string | undefined {
    return this.dir && CONTAINER_ID.test(containerId) ? join(this.dir, `${containerId}.json`) : undefined;
  }

  /** A ready state saved by this or another process; anything else there is ignored. */
  private saved(containerId: string): AgentStateFile | undefined {
    const file = this.fileOf(containerId);
    try {
      if (!file || statSync(file).size > MAX_STATE_FILE_BYTES) {
        return undefined;
      }
      const state = parseStateFile(readFileSync(file, 'utf8'));
      return state?.state === 'ready' ? state : undefined;
    } catch {
      return undefined;
    }
  }

  /** Best effort: a folder that cannot be written only means the next process reads the container. */
  private save(containerId: string, state: AgentStateFile): void {
    const file = this.fileOf(containerId);
    if (!file || state.state !== 'ready') {
      return;
    }
    try {
      mkdirSync(this.dir as string, { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify(state));
      renameSync(temp, file);
    } catch (error) {
      this.log.debug(`could not keep the state of container ${containerId.slice(0, 12)}: ${describeCause(error)}`);
    }
  }
}

function readdirNames(dir: string): string[] {
  // Only saved states (not another process's file being written).
  return readdirSync(dir).filter((name) => name.endsWith('.json'));
}
