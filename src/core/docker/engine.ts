import Docker from 'dockerode';
import { throwIfAborted } from '../base/abort';
import { EngineUnavailableError, ImageUnavailableError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { putFile, putHostFile, readFile } from './archive';
import { connectionOptions } from './connection';
import { execInContainer, type ExecOptions, type ExecResult } from './exec';
import { PullProgress, type PullEvent } from './pullProgress';

export interface ImageProgress {
  readonly message: string;
  readonly percent?: number;
}

/**
 * The one adapter over the Docker engine (dockerode). Everything the core asks
 * of Docker goes through here, so errors read the same everywhere.
 */
export class Engine {
  readonly docker: Docker;
  /** Where the engine is, for messages: `unix:///var/run/docker.sock`, `ssh://…`. */
  readonly address: string;

  constructor(host?: string, private readonly log: Logger = silentLogger) {
    const { options, display } = connectionOptions(host);
    this.docker = new Docker(options);
    this.address = display;
  }

  private capacityInfo: Promise<{ cpus: number; memoryBytes: number }> | undefined;

  /** Throws EngineUnavailableError when nothing answers. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (error) {
      throw new EngineUnavailableError(this.address, error);
    }
  }

  /** The engine's CPUs and memory (its machine's, or its VM's), asked once. */
  async capacity(): Promise<{ cpus: number; memoryBytes: number }> {
    this.capacityInfo ??= this.docker.info().then(
      (info: { NCPU?: number; MemTotal?: number }) => ({ cpus: info.NCPU ?? 0, memoryBytes: info.MemTotal ?? 0 }),
      (error: unknown) => {
        this.capacityInfo = undefined;
        throw this.wrap(error);
      },
    );
    return this.capacityInfo;
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (error) {
      if (statusCode(error) === 404) {
        return false;
      }
      throw this.wrap(error);
    }
  }

  /** Makes sure `image` is on the engine, pulling it (with progress) when it is not. */
  async ensureImage(image: string, onProgress?: (progress: ImageProgress) => void, signal?: AbortSignal): Promise<void> {
    if (await this.imageExists(image)) {
      return;
    }
    this.log.info(`pulling ${image}`);
    onProgress?.({ message: `pulling ${image}` });
    try {
      const stream = await this.docker.pull(image);
      const progress = new PullProgress();
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          (stream as unknown as { destroy(): void }).destroy();
          reject(new Error('pull cancelled'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.docker.modem.followProgress(
          stream,
          (error: Error | null, events: PullEvent[]) => {
            signal?.removeEventListener('abort', onAbort);
            const failed = error ?? events.find((event) => event.error)?.error;
            if (failed) {
              reject(failed instanceof Error ? failed : new Error(failed));
            } else {
              resolve();
            }
          },
          (event: PullEvent) => {
            const percent = progress.add(event);
            onProgress?.({ message: `pulling ${image}`, percent });
          },
        );
      });
    } catch (error) {
      throwIfAborted(signal, `pull of ${image}`);
      throw new ImageUnavailableError(image, error);
    }
  }

  /** The image's content id: a retagged image is another image. */
  async imageId(image: string): Promise<string> {
    return (await this.docker.getImage(image).inspect()).Id;
  }

  /** Saves a container's file system and config (labels included) as an image. */
  /** Commits a container as `repo:tag`; `labels` are added to the image's own. */
  async commitContainer(id: string, repo: string, tag: string, labels: Record<string, string> = {}): Promise<void> {
    // Dockerfile syntax: a JSON string is a valid quoted LABEL value.
    const changes = Object.entries(labels).map(([key, value]) => `LABEL ${key}=${JSON.stringify(value)}`);
    await this.docker.getContainer(id).commit({ repo, tag, pause: true, ...(changes.length > 0 ? { changes } : {}) });
  }

  async createContainer(options: Docker.ContainerCreateOptions): Promise<string> {
    const container = await this.docker.createContainer(options);
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  async stopContainer(id: string, timeoutSeconds = 5): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: timeoutSeconds });
    } catch (error) {
      if (statusCode(error) !== 304) {
        throw error;
      }
    }
  }

  /** Removes a container and its anonymous volumes; a missing one is not an error. */
  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (error) {
      if (statusCode(error) !== 404) {
        throw error;
      }
    }
  }

  async inspectContainer(idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(idOrName).inspect();
    } catch (error) {
      if (statusCode(error) === 404) {
        return undefined;
      }
      throw this.wrap(error);
    }
  }

  /**
   * Makes the engine emit an `update` event for the container (a no-op update):
   * how a process tells the others, which follow the events, that it changed
   * something the engine cannot see (an agent became ready).
   */
  async announce(id: string): Promise<void> {
    await this.docker.getContainer(id).update({ RestartPolicy: { Name: 'no' } });
  }

  /** Bytes in a container's own writable layer: what it changed, not the image it shares. */
  async writableLayerBytes(id: string): Promise<number> {
    const info = (await this.docker.getContainer(id).inspect({ size: true } as Docker.ContainerInspectOptions)) as Docker.ContainerInspectInfo & { SizeRw?: number };
    return info.SizeRw ?? 0;
  }

  /** All containers (running or not) that carry `label`. */
  async listContainers(label: string): Promise<Docker.ContainerInfo[]> {
    try {
      return await this.docker.listContainers({ all: true, filters: { label: [label] } });
    } catch (error) {
      throw this.wrap(error);
    }
  }

  exec(containerId: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return execInContainer(this.docker, containerId, argv, options);
  }

  /** Starts a command in the container and returns at once; it runs on after this process ends (a dev server, say). */
  async spawnDetached(containerId: string, argv: readonly string[], options: { workdir?: string; env?: Readonly<Record<string, string>> } = {}): Promise<void> {
    const exec = await this.docker.getContainer(containerId).exec({
      Cmd: [...argv],
      AttachStdout: false,
      AttachStderr: false,
      WorkingDir: options.workdir,
      Env: options.env ? Object.entries(options.env).map(([k, v]) => `${k}=${v}`) : undefined,
    });
    // The engine answers a detached start with an empty body; read it so the socket is freed.
    (await exec.start({ Detach: true })).resume();
  }

  putFile(containerId: string, path: string, content: string | Buffer, mode?: number): Promise<void> {
    return putFile(this.docker, containerId, path, content, mode);
  }

  putHostFile(containerId: string, hostPath: string, path: string): Promise<void> {
    return putHostFile(this.docker, containerId, hostPath, path);
  }

  readFile(containerId: string, path: string): Promise<Buffer | undefined> {
    return readFile(this.docker, containerId, path);
  }

  /** A refused connection means the engine is gone; anything else passes through. */
  private wrap(error: unknown): unknown {
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ECONNRESET') {
      return new EngineUnavailableError(this.address, error);
    }
    return error;
  }
}

export function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode;
}
