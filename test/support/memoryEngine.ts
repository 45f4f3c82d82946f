import { readFileSync, writeFileSync } from 'node:fs';
import type { ObjectFile } from '../../src/core/git/poolObjectFiles';
import { PassThrough, type Duplex } from 'node:stream';
import type { StarterEngine, StarterPool, StarterSnapshots } from '../../src/core/create/agentStarter';
import type { HostFilesTransfer } from '../../src/core/docker/archive';
import type { ContainerCreateOptions, ContainerInfo, ContainerInspectInfo, ImageInfo, ImageInspectInfo, NetworkCreateOptions, NetworkInspectInfo } from '../../src/core/docker/engine';
import type { ExecOptions, ExecResult } from '../../src/core/docker/exec';
import type { ResolvedBase } from '../../src/core/git/objectPool';
import type { Snapshot, SnapshotEngine, SnapshotSetup } from '../../src/core/snapshot/snapshotStore';

interface MemoryContainer {
  readonly id: string;
  readonly options: ContainerCreateOptions;
  running: boolean;
  readonly files: Map<string, Buffer>;
  output?: PassThrough;
}

/** An engine error as dockerode throws them (a status code and the engine's message). */
function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

/** A network as the engine describes it: its id is `net-<name>`. */
export function memoryNetwork(options: { Name: string; Driver?: string; Options?: Record<string, string>; Labels?: Record<string, string> }): NetworkInspectInfo {
  const { Name, Driver = 'bridge', Options = {}, Labels = {} } = options;
  return { Name, Id: `net-${Name}`, Driver, Options, Labels, Created: '', Scope: 'local', EnableIPv6: false, Internal: false, Attachable: false, Ingress: false, ConfigOnly: false };
}

/**
 * A small in-memory engine for the create pipeline's decisions: containers
 * with files, a boot that says "ready" (or fails) when started, execs answered
 * by a handler. It records what was made and removed, so tests can say what a
 * failure left behind.
 */
export class MemoryEngine implements StarterEngine, SnapshotEngine {
  readonly containers = new Map<string, MemoryContainer>();
  /** Images by name (`repo:tag`), as committed. */
  readonly images = new Map<string, { Id: string; Labels: Record<string, string> }>();
  /** Containers whose stdin a creator holds (a builder's watchdog). */
  readonly held = new Set<string>();
  readonly removed: string[] = [];
  readonly execs: { containerId: string; argv: readonly string[]; options?: ExecOptions }[] = [];
  readonly announced: string[] = [];
  /** The containers host files were sent to, one entry a transfer (kept when the container goes). */
  readonly transfers: string[] = [];
  /** Networks by name; the engine's own three are there. */
  readonly networks = new Map<string, NetworkInspectInfo>([
    memoryNetwork({ Name: 'host', Driver: 'host' }),
    memoryNetwork({ Name: 'none', Driver: 'null' }),
    memoryNetwork({ Name: 'bridge', Options: { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true' } }),
  ].map((network) => [network.Name, network]));
  /** Images the engine lacks: creating from them fails as the engine does. */
  readonly missingImages = new Set<string>();
  /** What a container's boot prints when it starts. */
  bootOutput = 'gitiso-ready\n';
  /** Answers execs; exit 0 with no output by default. */
  onExec: (argv: readonly string[], options?: ExecOptions) => ExecResult | Promise<ExecResult> = () => ({ exitCode: 0, stdout: '', stderr: '' });
  private next = 0;

  async ping(): Promise<void> {}

  async ensureImage(): Promise<void> {}

  /** As Docker 20.10 says it: a key fingerprint, and the data root. */
  engineIdValue = 'WXYZ:ABCD:2345:EFGH:6789 /var/lib/docker';

  async engineId(): Promise<string> {
    return this.engineIdValue;
  }

  async capacity(): Promise<{ cpus: number; memoryBytes: number }> {
    return { cpus: 2, memoryBytes: 8 * 1024 ** 3 };
  }

  async createContainer(options: ContainerCreateOptions): Promise<string> {
    if (options.Image && this.missingImages.has(options.Image)) {
      throw engineError(404, `No such image: ${options.Image}`);
    }
    if ([...this.containers.values()].some((c) => c.options.name === options.name)) {
      throw engineError(409, `Conflict. The container name "/${options.name}" is already in use`);
    }
    const id = `c${++this.next}`;
    this.containers.set(id, { id, options, running: false, files: new Map() });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const container = this.must(id);
    container.running = true;
    container.output?.write(this.bootOutput);
  }

  async removeContainer(id: string): Promise<void> {
    if (this.containers.delete(id)) {
      this.removed.push(id);
    }
  }

  async inspectContainer(idOrName: string): Promise<ContainerInspectInfo | undefined> {
    const container = this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.options.name === idOrName);
    return container && ({ Id: container.id, Name: `/${container.options.name}`, State: { Running: container.running }, Config: { Labels: container.options.Labels } } as unknown as ContainerInspectInfo);
  }

  async putHostFile(id: string, hostPath: string, path: string): Promise<void> {
    this.must(id).files.set(path, readFileSync(hostPath));
  }

  async putHostFiles(id: string, transfer: HostFilesTransfer): Promise<void> {
    const container = this.must(id);
    for (const file of transfer.files) {
      container.files.set(`${transfer.dir}/${file.name}`, readFileSync(file.hostPath));
    }
    for (const note of transfer.notes ?? []) {
      container.files.set(`${transfer.dir}/${note.name}`, Buffer.from(note.content));
    }
    this.transfers.push(id);
  }

  async putFile(id: string, path: string, content: string | Buffer): Promise<void> {
    this.must(id).files.set(path, Buffer.from(content));
  }

  async readFile(id: string, path: string): Promise<Buffer | undefined> {
    return this.containers.get(id)?.files.get(path);
  }

  async exec(containerId: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.must(containerId);
    this.execs.push({ containerId, argv, options });
    return this.onExec(argv, options);
  }

  async imageId(image: string): Promise<string> {
    return this.images.get(image)?.Id ?? `sha256:${image}`;
  }

  async inspectImage(image: string): Promise<ImageInspectInfo | undefined> {
    const found = this.images.get(image);
    return found && ({ Id: found.Id, Size: 1, Config: { Labels: found.Labels } } as unknown as ImageInspectInfo);
  }

  async listImages(label: string): Promise<ImageInfo[]> {
    return [...this.images.entries()].filter(([, image]) => label in image.Labels).map(([name, image]) => ({ Id: image.Id, RepoTags: [name], Labels: image.Labels, Size: 1 }) as unknown as ImageInfo);
  }

  async removeImage(id: string): Promise<void> {
    for (const [name, image] of this.images) {
      if (image.Id === id) {
        this.images.delete(name);
      }
    }
  }

  async listContainers(): Promise<ContainerInfo[]> {
    return [...this.containers.values()].map((c) => ({ Id: c.id, Names: [`/${c.options.name}`], Image: c.options.Image, ImageID: c.options.Image, Labels: c.options.Labels ?? {}, State: c.running ? 'running' : 'created' }) as unknown as ContainerInfo);
  }

  async commitContainer(id: string, repo: string, tag: string, labels: Record<string, string> = {}): Promise<void> {
    this.images.set(`${repo}:${tag}`, { Id: `sha256:${tag}`, Labels: { ...this.must(id).options.Labels, ...labels } });
  }

  async holdStdin(id: string): Promise<{ release(): void }> {
    this.must(id);
    this.held.add(id);
    return { release: () => this.held.delete(id) };
  }

  async attach(id: string): Promise<Duplex> {
    const output = new PassThrough();
    this.must(id).output = output;
    return output;
  }

  demux(stream: NodeJS.ReadableStream, onStdout: (chunk: Buffer) => void): void {
    stream.on('data', onStdout);
  }

  async announce(id: string): Promise<void> {
    this.announced.push(id);
  }

  async inspectNetwork(nameOrId: string): Promise<NetworkInspectInfo | undefined> {
    return this.networks.get(nameOrId) ?? [...this.networks.values()].find((n) => n.Id === nameOrId);
  }

  async createNetwork(options: NetworkCreateOptions): Promise<string> {
    if (this.networks.has(options.Name)) {
      throw engineError(409, `network with name ${options.Name} already exists`);
    }
    const network = memoryNetwork(options);
    this.networks.set(options.Name, network);
    return network.Id;
  }

  private must(id: string): MemoryContainer {
    const container = this.containers.get(id);
    if (!container) {
      throw engineError(404, `No such container: ${id}`);
    }
    return container;
  }
}

/** A pool that knows one base (`known`) and fetches another (`fetched`); bundles are small files. */
export class MemoryPool implements StarterPool {
  readonly bundles: { commit: string; exclude?: string }[] = [];

  constructor(
    private readonly known: ResolvedBase | undefined,
    private readonly fetched: ResolvedBase,
  ) {}

  /** How the pool's fetch goes: at once by default; a test may hold it or make it fail. */
  onSync: () => Promise<void> = async () => undefined;

  async sync(): Promise<string> {
    await this.onSync();
    return '/pool/repo.git';
  }

  async resolve(): Promise<ResolvedBase> {
    return this.fetched;
  }

  async resolveKnown(): Promise<ResolvedBase | undefined> {
    return this.known;
  }

  /** The repository's root files at a commit (none unless a test says). */
  tree: (commit: string) => Readonly<Record<string, string>> = () => ({});

  async readFile(_url: string, commit: string, path: string): Promise<string | undefined> {
    return this.tree(commit)[path];
  }

  async rootFiles(_url: string, commit: string): Promise<Map<string, string>> {
    // A blob id that changes with the content, as git's does.
    return new Map(Object.entries(this.tree(commit)).map(([path, content]) => [path, `blob-${Buffer.from(content).toString('hex').slice(0, 24)}`]));
  }

  async bundle(_url: string, commit: string, file: string, exclude?: string): Promise<string> {
    writeFileSync(file, `bundle of ${commit}`);
    this.bundles.push({ commit, exclude });
    return 'refs/heads/main';
  }

  pathFor(): string {
    return '/pool/repo.git';
  }

  /** The mirror's object files (none unless a test says). */
  objects: ObjectFile[] = [];

  async objectFiles(): Promise<ObjectFile[]> {
    return this.objects;
  }
}

/** Snapshot images as a list; `ensure` builds (records) the one asked for. */
export class MemorySnapshots implements StarterSnapshots {
  readonly built: string[] = [];
  readonly refreshed: string[] = [];

  /** How many times find looked. */
  finds = 0;

  constructor(readonly images: Snapshot[] = []) {}

  async find(_repo: string, _image: string, commit: string): Promise<Snapshot | undefined> {
    this.finds++;
    return this.images.find((s) => s.baseCommit === commit);
  }

  async findAncestor(): Promise<Snapshot | undefined> {
    return this.images.find((s) => s.baseCommit.startsWith('old'));
  }

  /** The install of each snapshot built or refreshed, by its commit. */
  readonly installs = new Map<string, string | undefined>();

  /** The coding agent's install of each snapshot built or refreshed, by its commit. */
  readonly tools = new Map<string, string | undefined>();

  refreshInBackground({ base, setup }: { base: ResolvedBase; setup?: SnapshotSetup }): void {
    this.refreshed.push(base.commit);
    this.installs.set(base.commit, setup?.install);
    this.tools.set(base.commit, setup?.tool?.command);
  }

  async ensure({ repoUrl, base, setup }: { repoUrl: string; base: ResolvedBase; setup?: SnapshotSetup }): Promise<Snapshot> {
    this.built.push(base.commit);
    this.installs.set(base.commit, setup?.install);
    this.tools.set(base.commit, setup?.tool?.command);
    const snapshot = snapshotOf(base.commit, repoUrl);
    this.images.push(snapshot);
    return snapshot;
  }
}

export function snapshotOf(commit: string, repoUrl = 'git://server/repo.git'): Snapshot {
  return { key: `k-${commit}`, image: `gitiso-snapshot:k-${commit}`, repoUrl, baseBranch: 'main', baseCommit: commit, baseImageId: 'sha256:base', createdAt: new Date(), setupKey: '' };
}
