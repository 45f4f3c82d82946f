import * as vscode from 'vscode';
import { AgentFileError, type AgentFileProblem } from '../../core/files/agentFileError';
import { AgentFiles } from '../../core/files/agentFiles';
import type { Gitiso } from '../composition';

/** `gitiso-agent://<agent id>/<path under the agent's /workspace>` */
export const AGENT_SCHEME = 'gitiso-agent';

/** The URI of a file in an agent; `path` is relative to its /workspace. */
export function agentFileUri(agentId: string, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: AGENT_SCHEME, authority: agentId, path: `/${path.replace(/^\/+/, '')}` });
}

const ERRORS: Record<Exclude<AgentFileProblem, 'other'>, (message: string) => vscode.FileSystemError> = {
  'not-found': (message) => vscode.FileSystemError.FileNotFound(message),
  exists: (message) => vscode.FileSystemError.FileExists(message),
  'is-directory': (message) => vscode.FileSystemError.FileIsADirectory(message),
  'not-directory': (message) => vscode.FileSystemError.FileNotADirectory(message),
  'no-permission': (message) => vscode.FileSystemError.NoPermissions(message),
  unavailable: (message) => vscode.FileSystemError.Unavailable(message),
};

function asFileSystemError(error: unknown): unknown {
  if (!(error instanceof AgentFileError)) {
    return error;
  }
  return error.problem === 'other' ? new vscode.FileSystemError(error.message) : ERRORS[error.problem](error.message);
}

/**
 * Agents' files in the editor: a thin FileSystemProvider over the core's
 * AgentFiles, which does the work in the agent's container. The core is
 * looked up on each call (a change of settings builds a new one). There is no
 * watcher in the container: the changes it reports are its own.
 */
export class AgentFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  private readonly registration: vscode.Disposable;

  constructor(private readonly gitiso: Gitiso) {
    this.registration = vscode.workspace.registerFileSystemProvider(AGENT_SCHEME, this, { isCaseSensitive: true });
  }

  /** On the agent's own engine; looked up per call, so it follows a rebuilt core. */
  private files(agentId: string): AgentFiles {
    return new AgentFiles(this.gitiso.on(agentId));
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    return translated(async () => {
      const { type, size, mtime, ctime } = await this.files(uri.authority).stat(uri.authority, uri.path);
      return { type: type as vscode.FileType, size, mtime, ctime };
    });
  }

  readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    return translated(async () => (await this.files(uri.authority).readDirectory(uri.authority, uri.path)).map(([name, type]) => [name, type as vscode.FileType]));
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return translated(() => this.files(uri.authority).readFile(uri.authority, uri.path));
  }

  writeFile(uri: vscode.Uri, content: Uint8Array, options: { readonly create: boolean; readonly overwrite: boolean }): Promise<void> {
    return translated(async () => {
      await this.files(uri.authority).writeFile(uri.authority, uri.path, content, options);
      this.changed.fire([{ type: vscode.FileChangeType.Changed, uri }]);
    });
  }

  createDirectory(uri: vscode.Uri): Promise<void> {
    return translated(async () => {
      await this.files(uri.authority).createDirectory(uri.authority, uri.path);
      this.changed.fire([{ type: vscode.FileChangeType.Created, uri }]);
    });
  }

  delete(uri: vscode.Uri, options: { readonly recursive: boolean }): Promise<void> {
    return translated(async () => {
      await this.files(uri.authority).delete(uri.authority, uri.path, options);
      this.changed.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
    });
  }

  rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { readonly overwrite: boolean }): Promise<void> {
    return translated(async () => {
      if (oldUri.authority !== newUri.authority) {
        throw vscode.FileSystemError.NoPermissions('a file cannot be renamed from one agent to another');
      }
      await this.files(oldUri.authority).rename(oldUri.authority, oldUri.path, newUri.path, options);
      this.changed.fire([
        { type: vscode.FileChangeType.Deleted, uri: oldUri },
        { type: vscode.FileChangeType.Created, uri: newUri },
      ]);
    });
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}

/** The core's errors as the FileSystemErrors VS Code understands. */
async function translated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asFileSystemError(error);
  }
}
