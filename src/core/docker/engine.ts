import type { Duplex, Readable } from 'node:stream';
import Docker from 'dockerode';
import { throwIfAborted } from '../base/abort';
import { asError, CancelledError, EngineUnavailableError, ImageUnavailableError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { putFile, putHostFile, putHostFiles, type HostFilesTransfer, readFile } from './archive';
import { connectionOptions, type EngineConnection } from './connection';
import type { SshTunnel } from './sshTunnel';
import { AGENT_RESTART_POLICY } from './containerSpec';
import { labelChange } from './dockerfileLabel';
import { execInContainer, type ExecOptions, type ExecResult } from './exec';
import { PullProgress, type PullEvent } from './pullProgress';
import { demuxStream } from './streamDemux';

/** The engine's own shapes, named here so that no other module imports dockerode. */
export type DockerOptions = Docker.DockerOptions;
export type ContainerCreateOptions = Docker.ContainerCreateOptions;
export type ContainerInspectInfo = Docker.ContainerInspectInfo;
export type ContainerInfo = Docker.ContainerInfo & { SizeRw?: number };
export type ImageInfo = Docker.ImageInfo;
export type ImageInspectInfo = Docker.ImageInspectInfo;
export type NetworkInspectInfo = Docker.NetworkInspectInfo;
export type NetworkCreateOptions = Docker.NetworkCreateOptions;

/** A process to start in a running container: an argument array, never a shell string. */
export interface ExecSpec {
  readonly argv: readonly string[];
  readonly workdir?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly user?: string;
  /** Attach stdin (a channel, a terminal). */
  readonly stdin?: boolean;
  /** A TTY: one raw stream, no stdout/stderr framing. */
  readonly tty?: boolean;
}

/** A started exec: its attached stream, and what the engine knows of it. */
export interface ExecSession {
  readonly stream: Duplex;
  /** Whether it still runs and, once ended, its exit code (null while the engine has not recorded it). */
  status(): Promise<{ running: boolean; exitCode: number | null }>;
  resize(columns: number, rows: number): Promise<void>;
}

/** Resource limits the engine enforces on a container (its cgroup). */
export interface ContainerResources {
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly pids: number;
}

export interface ImageProgress {
  readonly message: string;
  readonly percent?: number;
}

/** What `docker info` says that gitiso uses. */
interface EngineFacts {
  readonly operatingSystem: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  /** Its id and data root (see `engineId`). */
  readonly id: string;
  readonly rootless: boolean;
}

/**
 * The one adapter over the Docker engine: the only module that imports
 * dockerode (a lint rule keeps it so). Everything the core asks of Docker goes
 * through here, so errors read the same everywhere and the rest can be tested
 * over a small in-memory engine.
 */
export class Engine {
  private readonly docker: Docker;
  /** Where the engine is, for messages: `unix:///var/run/docker.sock`, `ssh://…`. */
  readonly address: string;

  /** For an ssh:// engine: the connection its requests and forwards go through. */
  private readonly tunnel: SshTunnel | undefined;

  constructor(connection?: string | EngineConnection, private readonly log: Logger = silentLogger) {
    const { options, display, tunnel } = connectionOptions(typeof connection === 'string' || connection === undefined ? { host: connection } : connection, process.env, log);
    this.docker = new Docker(options);
    this.address = display;
    this.tunnel = tunnel;
  }

  /** How the host reaches this engine: `ssh` engines can forward to their containers through the same connection. */
  get reach(): 'ssh' | 'direct' {
    return this.tunnel ? 'ssh' : 'direct';
  }

  /**
   * For an ssh:// engine: a local socket that reaches `address:port` as the
   * engine's machine sees it (a container's bridge address), through the same
   * ssh connection; undefined for other engines.
   */
  tunnelTo(address: string, port: number): Promise<{ readonly path: string; close(): Promise<void> }> | undefined {
    return this.tunnel?.forward(address, port);
  }

  /** Ends what the connection holds (an ssh process); the engine is not used again. */
  dispose(): void {
    this.tunnel?.dispose();
  }

  private facts: Promise<EngineFacts> | undefined;

  /** Throws EngineUnavailableError when nothing answers. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (error) {
      const wrapped = this.wrap(error);
      throw wrapped instanceof EngineUnavailableError ? wrapped : new EngineUnavailableError(this.address, error);
    }
  }

  /** The engine's CPUs and memory (its machine's, or its VM's), asked once. */
  async capacity(): Promise<{ cpus: number; memoryBytes: number }> {
    const { cpus, memoryBytes } = await this.factsOnce();
    return { cpus, memoryBytes };
  }

  /**
   * What tells this engine from any other, two on one machine included, asked
   * once: its id and its data root. The id alone is not enough: Docker 20.10
   * derives it from /etc/docker/key.json, which two dockerds of one machine share.
   */
  async engineId(): Promise<string> {
    return (await this.factsOnce()).id;
  }

  /** Whether it is rootless Docker (its containers in a network namespace of its own), asked once. */
  async isRootless(): Promise<boolean> {
    return (await this.factsOnce()).rootless;
  }

  /** `docker info`, asked once (again after a failure): what the engine is does not change while it answers. */
  private factsOnce(): Promise<EngineFacts> {
    this.facts ??= this.docker.info().then(
      (info: { NCPU?: number; MemTotal?: number; ID?: string; DockerRootDir?: string; SecurityOptions?: string[]; OperatingSystem?: string }) => ({
        operatingSystem: info.OperatingSystem ?? '',
        cpus: info.NCPU ?? 0,
        memoryBytes: info.MemTotal ?? 0,
        id: `${info.ID ?? ''} ${info.DockerRootDir ?? ''}`.trim(),
        rootless: (info.SecurityOptions ?? []).includes('name=rootless'),
      }),
      (error: unknown) => {
        this.facts = undefined;
        throw this.wrap(error);
      },
    );
    return this.facts;
  }

  /** The engine's operating system as it names it ("Docker Desktop" for Docker Desktop): where the API proxy can listen depends on it. */
  async operatingSystem(): Promise<string> {
    return (await this.factsOnce()).operatingSystem;
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
          reject(new CancelledError(`pull of ${image}`));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.docker.modem.followProgress(
          stream,
          (error: Error | null, events: PullEvent[]) => {
            signal?.removeEventListener('abort', onAbort);
            const failed = error ?? events.find((event) => event.error)?.error;
            if (failed) {
              reject(asError(failed));
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

  /** Commits a container as `repo:tag`; `labels` are added to the image's own. */
  async commitContainer(id: string, repo: string, tag: string, labels: Record<string, string> = {}): Promise<void> {
    // Dockerfile syntax, where a plain JSON string would have its $VARs expanded.
    const changes = Object.entries(labels).map(([key, value]) => labelChange(key, value));
    await this.docker.getContainer(id).commit({ repo, tag, pause: true, ...(changes.length > 0 ? { changes } : {}) });
  }

  async createContainer(options: ContainerCreateOptions): Promise<string> {
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

  async inspectContainer(idOrName: string): Promise<ContainerInspectInfo | undefined> {
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
    // Sets the restart policy agents already have: an update that changes nothing.
    await this.docker.getContainer(id).update({ RestartPolicy: { Name: AGENT_RESTART_POLICY } });
  }

  /** Bytes in a container's own writable layer: what it changed, not the image it shares. */
  async writableLayerBytes(id: string): Promise<number> {
    const info = (await this.docker.getContainer(id).inspect({ size: true } as Docker.ContainerInspectOptions)) as Docker.ContainerInspectInfo & { SizeRw?: number };
    return info.SizeRw ?? 0;
  }

  /** All containers (running or not) that carry `label`; every container when absent. `size` adds each one's writable layer (slow: the engine walks the files). */
  async listContainers(label?: string, options: { size?: boolean } = {}): Promise<ContainerInfo[]> {
    try {
      return await this.docker.listContainers({ all: true, size: options.size, ...(label ? { filters: { label: [label] } } : {}) });
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** Changes a container's limits in place (its cgroup); no swap beyond the memory limit. */
  async updateResources(id: string, resources: ContainerResources): Promise<void> {
    await this.docker.getContainer(id).update({ Memory: resources.memoryBytes, MemorySwap: resources.memoryBytes, NanoCpus: Math.round(resources.cpus * 1e9), PidsLimit: resources.pids });
  }

  /** One sample of the engine's stats of a container, as the engine reports it. */
  async statsOnce(id: string): Promise<unknown> {
    return this.docker.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false });
  }

  /** Images that carry `label`. */
  async listImages(label: string): Promise<ImageInfo[]> {
    try {
      return await this.docker.listImages({ filters: { label: [label] } });
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** An image's details; undefined when the engine has no such image. */
  async inspectImage(image: string): Promise<ImageInspectInfo | undefined> {
    try {
      return await this.docker.getImage(image).inspect();
    } catch (error) {
      if (statusCode(error) === 404) {
        return undefined;
      }
      throw this.wrap(error);
    }
  }

  /** Removes an image unless a container uses it (the engine refuses then). */
  async removeImage(id: string): Promise<void> {
    await this.docker.getImage(id).remove({ force: false });
  }

  /** The engine's events stream for containers carrying `label`, limited to `events`. */
  async containerEvents(label: string, events: readonly string[]): Promise<NodeJS.ReadableStream> {
    return this.docker.getEvents({ filters: { type: ['container'], label: [label], event: [...events] } });
  }

  /** A network's details by name or id; undefined when the engine has no such network. */
  async inspectNetwork(nameOrId: string): Promise<NetworkInspectInfo | undefined> {
    try {
      return (await this.docker.getNetwork(nameOrId).inspect()) as NetworkInspectInfo;
    } catch (error) {
      if (statusCode(error) === 404) {
        return undefined;
      }
      throw this.wrap(error);
    }
  }

  /** Makes a network; the engine refuses a name it already has (409). Returns its id. */
  async createNetwork(options: NetworkCreateOptions): Promise<string> {
    try {
      return (await this.docker.createNetwork({ CheckDuplicate: true, ...options })).id;
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** Removes a network; a missing one is not an error (the engine refuses one in use). */
  async removeNetwork(nameOrId: string): Promise<void> {
    try {
      await this.docker.getNetwork(nameOrId).remove();
    } catch (error) {
      if (statusCode(error) !== 404) {
        throw this.wrap(error);
      }
    }
  }

  /** Starts a process in a running container and returns its attached stream. */
  async openExec(containerId: string, spec: ExecSpec): Promise<ExecSession> {
    const exec = await this.docker.getContainer(containerId).exec({
      Cmd: [...spec.argv],
      AttachStdin: spec.stdin ?? false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: spec.tty ?? false,
      WorkingDir: spec.workdir,
      Env: spec.env ? Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) : undefined,
      User: spec.user,
    });
    const stream = (await exec.start({ hijack: true, stdin: spec.stdin ?? false, ...(spec.tty ? { Tty: true } : {}) })) as Duplex;
    return {
      stream,
      status: async () => {
        const info = await exec.inspect();
        return { running: info.Running, exitCode: info.ExitCode };
      },
      resize: async (columns, rows) => {
        await exec.resize({ w: columns, h: rows });
      },
    };
  }

  /** Splits an attached, non-TTY stream into its stdout and stderr. */
  demux(stream: NodeJS.ReadableStream, onStdout: (chunk: Buffer) => void, onStderr: (chunk: Buffer) => void): void {
    demuxStream(stream, onStdout, onStderr);
  }

  /** The container's output from now on (attached before a start, nothing is missed). */
  async attach(containerId: string): Promise<Duplex> {
    return (await this.docker.getContainer(containerId).attach({ stream: true, stdout: true, stderr: true })) as unknown as Duplex;
  }

  /**
   * Attaches to a container's stdin and holds it open until `release`, or
   * until this process ends, however it ends: a container made with OpenStdin
   * and StdinOnce whose command reads its stdin then ends with its creator.
   */
  async holdStdin(containerId: string): Promise<{ release(): void }> {
    const stream = (await this.docker.getContainer(containerId).attach({ stream: true, stdin: true, hijack: true })) as unknown as Duplex;
    // The engine closes it when the container goes: expected, not an error.
    stream.on('error', () => undefined);
    return { release: () => stream.destroy() };
  }

  exec(containerId: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return execInContainer(this, containerId, argv, options);
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

  /** Unpacks a tar archive into the container at `path`. */
  async putArchive(containerId: string, archive: Buffer | Readable, path = '/'): Promise<void> {
    await this.docker.getContainer(containerId).putArchive(archive, { path });
  }

  /** A tar archive of `path` in the container; undefined when it does not exist. */
  async getArchive(containerId: string, path: string): Promise<NodeJS.ReadableStream | undefined> {
    try {
      return await this.docker.getContainer(containerId).getArchive({ path });
    } catch (error) {
      if (statusCode(error) === 404) {
        return undefined;
      }
      throw this.wrap(error);
    }
  }

  putFile(containerId: string, path: string, content: string | Buffer, mode?: number): Promise<void> {
    return putFile(this, containerId, { path, content, mode });
  }

  putHostFile(containerId: string, hostPath: string, path: string): Promise<void> {
    return putHostFile(this, containerId, hostPath, path);
  }

  /** Host files into the container under `dir`, in one archive (see archive.ts). */
  putHostFiles(containerId: string, transfer: HostFilesTransfer): Promise<void> {
    return putHostFiles(this, containerId, transfer);
  }

  readFile(containerId: string, path: string, options?: { readonly maxBytes?: number }): Promise<Buffer | undefined> {
    return readFile(this, containerId, path, options);
  }

  /** A refused connection means the engine is gone; anything else passes through. */
  private wrap(error: unknown): unknown {
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ECONNRESET') {
      // An ssh engine's connection ended: it is made again for the next request, and ssh's own word says why.
      this.tunnel?.revive();
      return new EngineUnavailableError(this.address, this.tunnel?.lastError ?? error);
    }
    return error;
  }
}

export function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode;
}
