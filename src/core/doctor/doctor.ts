import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL, parseStateFile, STATE_FILE } from '../agent';
import type { ContainerInfo, Engine } from '../docker/engine';
import { describeCause } from '../errors';
import type { ObjectPool } from '../git/objectPool';
import { isStaleLock } from '../git/poolLock';
import { redactCredentials, silentLogger, type Logger } from '../logger';
import { liveness } from '../ownership';
import { BUILDER_PREFIX, SNAPSHOT_LABEL, type SnapshotStore } from '../snapshot/snapshotStore';
import { agentLeftover, builderLeftover, type FoundPath, type Leftover, type ListedContainer, mayBeHalfMade, poolEntryLeftover, tempLeftover } from './leftovers';

export interface DoctorOptions {
  readonly engine: Pick<Engine, 'listContainers' | 'readFile' | 'removeContainer' | 'removeImage'>;
  readonly snapshots: Pick<SnapshotStore, 'unused'>;
  readonly pool: Pick<ObjectPool, 'root'>;
  readonly log?: Logger;
  /** Where temporary folders are looked for; the system's when absent. */
  readonly tempDir?: string;
}

export interface FindScope {
  /** Only what belongs to this repository (the engine's objects); temporary files and locks are this machine's either way. */
  readonly repoUrl?: string;
  /** Only what is certainly left over (no unused snapshots, no ownerless temporary files): what is removed without asking. */
  readonly obviousOnly?: boolean;
}

export interface FixOutcome {
  readonly removed: Leftover[];
  readonly failed: { readonly leftover: Leftover; readonly error: string }[];
}

/**
 * Finds and removes what crashes leave: snapshot builders and half-made
 * agents whose creator ended, temporary folders and pool locks of ended
 * processes, first clones that never finished; and, when asked, snapshots no
 * agent uses. Never anything whose owner still runs.
 */
export class Doctor {
  private readonly log: Logger;

  constructor(private readonly options: DoctorOptions) {
    this.log = options.log ?? silentLogger;
  }

  async find(scope: FindScope = {}): Promise<Leftover[]> {
    const [containers, snapshots] = await Promise.all([this.containerLeftovers(scope), scope.obviousOnly ? [] : this.snapshotLeftovers(scope)]);
    const local = [...this.tempLeftovers(), ...this.poolLeftovers()].filter((leftover) => !scope.obviousOnly || leftover.obvious);
    return [...containers, ...snapshots, ...local];
  }

  /** Removes each; one that cannot be removed is reported, not thrown. */
  async fix(leftovers: readonly Leftover[]): Promise<FixOutcome> {
    const outcome: FixOutcome = { removed: [], failed: [] };
    for (const leftover of leftovers) {
      try {
        await this.remove(leftover);
        outcome.removed.push(leftover);
        this.log.info(`doctor: removed ${leftover.kind} ${leftover.name} (${leftover.why})`);
      } catch (error) {
        outcome.failed.push({ leftover, error: describeCause(error) });
        this.log.warn(`doctor: could not remove ${leftover.kind} ${leftover.name}: ${describeCause(error)}`);
      }
    }
    return outcome;
  }

  /** Finds and removes what is certainly left over (start-up, before a create of `repoUrl`); logs, never throws. */
  async cleanObvious(scope: Omit<FindScope, 'obviousOnly'> = {}): Promise<Leftover[]> {
    try {
      const found = await this.find({ ...scope, obviousOnly: true });
      return found.length === 0 ? [] : (await this.fix(found)).removed;
    } catch (error) {
      this.log.warn(`doctor: could not look for leftovers${scope.repoUrl ? ` of ${redactCredentials(scope.repoUrl)}` : ''}: ${describeCause(error)}`);
      return [];
    }
  }

  private async containerLeftovers(scope: FindScope): Promise<Leftover[]> {
    const { engine } = this.options;
    const world = liveness();
    // Builders and agents both carry the repository's label.
    const listed = (await engine.listContainers(scope.repoUrl ? `${LABEL.repo}=${scope.repoUrl}` : LABEL.repo)).map(listedContainer);
    const builders = listed.filter((c) => c.name.startsWith(BUILDER_PREFIX) && c.labels?.[SNAPSHOT_LABEL.key]).flatMap((c) => builderLeftover(c, world) ?? []);
    const agents = await Promise.all(
      listed
        .filter((c) => mayBeHalfMade(c, world))
        .map(async (c) => {
          const content = await engine.readFile(c.id, STATE_FILE).catch(() => undefined);
          return agentLeftover(c, parseStateFile(content?.toString('utf8')));
        }),
    );
    return [...builders, ...agents.flatMap((leftover) => leftover ?? [])];
  }

  private async snapshotLeftovers(scope: FindScope): Promise<Leftover[]> {
    const unused = await this.options.snapshots.unused(0);
    return unused
      .filter(({ snapshot }) => !scope.repoUrl || snapshot.repoUrl === scope.repoUrl)
      .map(({ id, snapshot }) => ({
        kind: 'snapshot' as const,
        target: id,
        name: snapshot.image,
        why: `no agent uses it (${((snapshot.sizeBytes ?? 0) / 1e6).toFixed(0)} MB, ${redactCredentials(snapshot.repoUrl)})`,
        obvious: false,
      }));
  }

  private tempLeftovers(): Leftover[] {
    const world = liveness();
    return listDir(this.options.tempDir ?? tmpdir(), (name) => name.startsWith('gitiso-')).flatMap((found) => tempLeftover(found, world) ?? []);
  }

  private poolLeftovers(): Leftover[] {
    const world = liveness();
    return listDir(join(this.options.pool.root, 'pool'), (name) => !name.endsWith('.git') || name.startsWith('.')).flatMap((found) => {
      const text = found.name.endsWith('.lock') ? readText(found.path) : undefined;
      return poolEntryLeftover({ ...found, text }, world) ?? [];
    });
  }

  private async remove(leftover: Leftover): Promise<void> {
    switch (leftover.kind) {
      case 'builder':
      case 'agent':
        return this.options.engine.removeContainer(leftover.target);
      case 'snapshot':
        return this.options.engine.removeImage(leftover.target);
      case 'lock':
        // Taken again since it was found: it is someone's now.
        if (leftover.target.endsWith('.lock') && !isStaleLock({ text: readText(leftover.target), mtimeMs: statSync(leftover.target).mtimeMs }, liveness())) {
          throw new Error('it is held again');
        }
        return rmSync(leftover.target, { force: true });
      case 'temp':
        return rmSync(leftover.target, { recursive: true, force: true });
    }
  }
}

function listedContainer(info: ContainerInfo): ListedContainer {
  return { id: info.Id, name: (info.Names?.[0] ?? info.Id).replace(/^\//, ''), labels: info.Labels };
}

/** The entries of `dir` whose names pass `keep`, with their ages (a temporary folder may be large: names are filtered before any stat). */
function listDir(dir: string, keep: (name: string) => boolean): FoundPath[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter(keep);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    try {
      return [{ name, path, mtimeMs: statSync(path).mtimeMs }];
    } catch {
      return [];
    }
  });
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
