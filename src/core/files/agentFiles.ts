import { randomUUID } from 'node:crypto';
import { WORKSPACE } from '../agent';
import type { AgentExec } from '../agentExec';
import { inspectAgent } from '../agentLookup';
import type { Engine } from '../docker/engine';
import type { ExecResult } from '../docker/exec';
import { AgentFileError } from './agentFileError';
import { agentPath } from './agentPath';
import { DIRECTORY_FORMAT, FILE_TYPE, linkStat, parseDirectory, parsePathList, parseStat, problemOf, STAT_FORMAT, type AgentFileStat } from './agentFileParsing';
import { AgentNotFoundError, AgentNotRunningError, describeCause, InvalidInputError, TooLargeError } from '../errors';
import { shown, validateAgentId } from '../names';

/** The largest file the host reads out of an agent: an editor has no use for more, and the agent decides what its files hold. */
export const MAX_READ_BYTES = 50 * 1024 * 1024;
/** What a folder listing may print: about 100,000 entries. */
export const MAX_LISTING_BYTES = 8 * 1024 * 1024;
/** How many of an agent's files a pick offers. */
export const MAX_PICK_FILES = 20_000;
/** A read, or a change (a write, a recursive delete of a large folder), that takes longer is given up: the agent's command channel is free again. */
const READ_TIMEOUT_MS = 60_000;
const CHANGE_TIMEOUT_MS = 120_000;
const LIST_TIMEOUT_MS = 30_000;
/**
 * Only regular files are read or written: a FIFO or a device (an agent's
 * link to /dev/zero, say) would hold the agent's command channel or feed it
 * without end. `$1` is the path, an argument; the messages use coreutils'
 * words, which problemOf() knows.
 */
const REGULAR_ONLY = 'if [ -d "$1" ]; then echo "Is a directory" >&2; exit 1; fi; if [ -e "$1" ] && [ ! -f "$1" ]; then echo "not a regular file: gitiso reads and writes only regular files" >&2; exit 1; fi; ';
/** Reads at most `$2` bytes: one more than MAX_READ_BYTES says the file is too large. */
const READ_SCRIPT = `${REGULAR_ONLY}exec head -c "$2" -- "$1"`;
/** Where a write's content waits in the container before it goes into the file. */
const WRITES_DIR = '/tmp/gitiso-writes';
/**
 * Content up to this size goes to the agent in its command line (base64, as
 * arguments of one command on the channel: about 40 ms for 1 KB, but the
 * channel's shell reads its line a byte at a time, 256 KB took 690 ms);
 * larger content through the engine's archive API (about 300 ms, no limit).
 */
export const MAX_INLINE_WRITE_BYTES = 64 * 1024;
/** Each argument stays far under Linux's 128 KiB limit for one argument. */
const INLINE_CHUNK_CHARS = 60_000;
/**
 * Both scripts write through the shell's redirection, so an existing file
 * keeps its inode, mode and links. The path and the content are the scripts'
 * arguments; nothing is ever put into the scripts themselves.
 */
const WRITE_INLINE_SCRIPT = `${REGULAR_ONLY}target=$1; shift; printf %s "$@" | base64 -d > "$target"`;
const WRITE_WAITING_SCRIPT = `waiting=$2; trap 'rm -f -- "$waiting"' EXIT; ${REGULAR_ONLY}cat -- "$waiting" > "$1"`;

export type FileEntry = readonly [name: string, type: number];

/** What it needs of the core: the agent's channels, and the engine's archive API for what goes in. */
export interface AgentFilesDeps {
  readonly exec: Pick<AgentExec, 'probe' | 'run'>;
  readonly engine: Pick<Engine, 'inspectContainer' | 'putFile'>;
}

/**
 * An agent's files under /workspace, for an editor: stat, list, read, write,
 * make, delete and rename, each an argument array in the agent's container
 * (reads on its probe channel, changes on its command channel). Paths are
 * those of `gitiso-agent://<id>/<path>` URIs (agentPath.ts). The host opens
 * none of them itself: it only reads what the container prints, bounded.
 */
export class AgentFiles {
  constructor(private readonly deps: AgentFilesDeps) {}

  stat(id: string, path: string): Promise<AgentFileStat> {
    return this.guard(id, async () => this.statIn(id, agentPath(path)));
  }

  readDirectory(id: string, path: string): Promise<FileEntry[]> {
    return this.guard(id, async () => {
      const target = agentPath(path);
      const result = await this.deps.exec.probe(id, ['find', '-H', target, '-maxdepth', '1', '-printf', DIRECTORY_FORMAT], { maxOutputBytes: MAX_LISTING_BYTES });
      if (result.exitCode !== 0) {
        throw failure(result, `cannot list ${target}`);
      }
      if (result.truncated) {
        throw new TooLargeError(`the listing of ${target}`, MAX_LISTING_BYTES);
      }
      const listing = parseDirectory(result.stdout);
      if (!(listing.type & FILE_TYPE.directory)) {
        throw new AgentFileError('not-directory', `${target} is not a folder`);
      }
      return [...listing.entries];
    });
  }

  /** The file's bytes; more than MAX_READ_BYTES is not read (the agent reads at most one byte more). */
  readFile(id: string, path: string): Promise<Uint8Array> {
    return this.guard(id, async () => {
      const target = agentPath(path);
      const chunks: Buffer[] = [];
      let size = 0;
      const result = await this.deps.exec.run(id, ['sh', '-c', READ_SCRIPT, 'gitiso-read', target, String(MAX_READ_BYTES + 1)], {
        timeoutMs: READ_TIMEOUT_MS,
        maxOutputBytes: 64 * 1024, // stderr's message; stdout is taken whole below
        onStdout: (chunk) => {
          size += chunk.length;
          if (size <= MAX_READ_BYTES) {
            chunks.push(Buffer.from(chunk));
          }
        },
      });
      if (result.exitCode !== 0) {
        throw failure(result, `cannot read ${target}`);
      }
      if (size > MAX_READ_BYTES) {
        throw new TooLargeError(`${target} in agent '${id}'`, MAX_READ_BYTES);
      }
      return Buffer.concat(chunks, size);
    });
  }

  /** Writes the file whole: `create` allows a new one, `overwrite` an existing one (VS Code's flags). */
  writeFile(id: string, path: string, content: Uint8Array, flags: { readonly create: boolean; readonly overwrite: boolean }): Promise<void> {
    return this.guard(id, async () => {
      const target = agentPath(path);
      // A save may create and overwrite: then the redirection alone decides (a folder fails with "Is a directory").
      const existing = flags.create && flags.overwrite ? undefined : await this.statOrNothing(id, target);
      if (existing && existing.type & FILE_TYPE.directory) {
        throw new AgentFileError('is-directory', `${target} is a folder`);
      }
      if (existing && !flags.overwrite) {
        throw new AgentFileError('exists', `${target} exists`);
      }
      if (!existing && !flags.create) {
        throw new AgentFileError('not-found', `${target} does not exist`);
      }
      await this.change(id, await this.writeCommand(id, target, Buffer.from(content.buffer, content.byteOffset, content.byteLength)), `cannot write ${target}`);
    });
  }

  createDirectory(id: string, path: string): Promise<void> {
    return this.guard(id, async () => {
      const target = agentPath(path);
      await this.change(id, ['mkdir', '--', target], `cannot make the folder ${target}`);
    });
  }

  /** Deletes a file or link, or a folder: an empty one unless `recursive`. /workspace itself is never deleted. */
  delete(id: string, path: string, options: { readonly recursive: boolean }): Promise<void> {
    return this.guard(id, async () => {
      const target = notTheWorkspace(agentPath(path));
      const existing = await this.statIn(id, target);
      const folder = (existing.type & FILE_TYPE.directory) !== 0 && !existing.isLink;
      const argv = folder && !options.recursive ? ['rmdir', '--', target] : ['rm', ...(options.recursive ? ['-r'] : []), '-f', '--', target];
      await this.change(id, argv, `cannot delete ${target}`);
    });
  }

  /** Renames within the agent's /workspace; an existing target is replaced only when `overwrite`. */
  rename(id: string, from: string, to: string, options: { readonly overwrite: boolean }): Promise<void> {
    return this.guard(id, async () => {
      const source = notTheWorkspace(agentPath(from));
      const target = notTheWorkspace(agentPath(to));
      await this.statIn(id, source);
      if (!options.overwrite && (await this.statOrNothing(id, target))) {
        throw new AgentFileError('exists', `${target} exists`);
      }
      await this.change(id, ['mv', '-T', '--', source, target], `cannot rename ${source} to ${target}`);
    });
  }

  /**
   * The files git knows in the agent's clone, tracked and untracked but not
   * ignored, relative to /workspace; at most MAX_PICK_FILES (`complete` says
   * whether that was all).
   */
  listFiles(id: string, options: { readonly signal?: AbortSignal } = {}): Promise<{ readonly paths: string[]; readonly complete: boolean }> {
    return this.guard(id, async () => {
      const result = await this.deps.exec.probe(id, ['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
        signal: options.signal,
        timeoutMs: LIST_TIMEOUT_MS,
        maxOutputBytes: 16 * 1024 * 1024,
      });
      if (result.exitCode !== 0) {
        throw failure(result, `cannot list the files of agent '${id}'`);
      }
      return parsePathList(result.stdout, MAX_PICK_FILES, result.truncated === true);
    });
  }

  /** The command that writes `content` to `target`: inline when small, else from a file the archive API put in the container. */
  private async writeCommand(id: string, target: string, content: Buffer): Promise<string[]> {
    if (content.length <= MAX_INLINE_WRITE_BYTES) {
      const encoded = content.toString('base64');
      const chunks: string[] = [];
      for (let at = 0; at < encoded.length; at += INLINE_CHUNK_CHARS) {
        chunks.push(encoded.slice(at, at + INLINE_CHUNK_CHARS));
      }
      return ['sh', '-c', WRITE_INLINE_SCRIPT, 'gitiso-write', target, ...chunks];
    }
    const waiting = `${WRITES_DIR}/${randomUUID()}`;
    // Readable by the agent's user, whoever runs its commands: the archive API writes as root.
    await this.deps.engine.putFile(await this.runningContainer(id), waiting, content, 0o644);
    return ['sh', '-c', WRITE_WAITING_SCRIPT, 'gitiso-write', target, waiting];
  }

  private async statIn(id: string, target: string): Promise<AgentFileStat> {
    const result = await this.deps.exec.probe(id, ['stat', '-c', STAT_FORMAT, '--', target]);
    if (result.exitCode !== 0) {
      throw failure(result, `cannot read ${target}`);
    }
    const own = parseStat(result.stdout);
    if (!own.isLink) {
      return own;
    }
    const followed = await this.deps.exec.probe(id, ['stat', '-L', '-c', STAT_FORMAT, '--', target]);
    return linkStat(own, followed.exitCode === 0 ? parseStat(followed.stdout) : undefined);
  }

  private async statOrNothing(id: string, target: string): Promise<AgentFileStat | undefined> {
    try {
      return await this.statIn(id, target);
    } catch (error) {
      if (error instanceof AgentFileError && error.problem === 'not-found') {
        return undefined;
      }
      throw error;
    }
  }

  private async change(id: string, argv: string[], what: string): Promise<void> {
    const result = await this.deps.exec.run(id, argv, { timeoutMs: CHANGE_TIMEOUT_MS });
    if (result.exitCode !== 0) {
      throw failure(result, what);
    }
  }

  private async runningContainer(id: string): Promise<string> {
    const info = await inspectAgent(this.deps.engine, id);
    if (!info.State.Running) {
      throw new AgentNotRunningError(id, 'stopped');
    }
    return info.Id;
  }

  /** Runs `work` for a valid agent id, and says what went wrong in a file system's terms. */
  private async guard<T>(id: string, work: () => Promise<T>): Promise<T> {
    try {
      validateAgentId(id);
      return await work();
    } catch (error) {
      throw asFileError(id, error);
    }
  }
}

function notTheWorkspace(target: string): string {
  if (target === WORKSPACE) {
    throw new AgentFileError('no-permission', `${WORKSPACE} itself cannot be deleted or renamed`);
  }
  return target;
}

function failure(result: ExecResult, what: string): AgentFileError {
  const message = result.stderr.trim().split('\n').pop() ?? '';
  return new AgentFileError(problemOf(result.stderr), message ? `${what}: ${shown(message)}` : `${what} (exit code ${result.exitCode})`);
}

/** Any error of a file operation as an AgentFileError: an agent that went or stopped, the engine, a limit. */
export function asFileError(id: string, error: unknown): AgentFileError {
  if (error instanceof AgentFileError) {
    return error;
  }
  if (error instanceof AgentNotFoundError) {
    return new AgentFileError('unavailable', `agent '${id}' no longer exists`, error);
  }
  if (error instanceof AgentNotRunningError) {
    return new AgentFileError('unavailable', `agent '${id}' is stopped: start it`, error);
  }
  if (error instanceof InvalidInputError) {
    return new AgentFileError('not-found', describeCause(error), error);
  }
  if (error instanceof TooLargeError) {
    return new AgentFileError('other', describeCause(error), error);
  }
  return new AgentFileError('unavailable', `agent '${shown(id)}': ${describeCause(error)}`, error);
}
