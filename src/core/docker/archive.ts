import { constants, createReadStream, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { TooLargeError } from '../errors';
import type { Engine } from './engine';

/** What moving files needs of the engine. */
type ArchiveEngine = Pick<Engine, 'putArchive' | 'getArchive'>;

/** Writes one file into a container (its folder is created), through the engine's archive API: no exec, no shell. */
export async function putFile(engine: ArchiveEngine, containerId: string, file: { readonly path: string; readonly content: string | Buffer; readonly mode?: number }): Promise<void> {
  const { path, content, mode = 0o644 } = file;
  const pack = tar.pack();
  pack.entry({ name: posix.relative('/', posix.dirname(path)) + '/', type: 'directory', mode: 0o755 });
  pack.entry({ name: posix.relative('/', path), mode }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) {
    chunks.push(chunk as Buffer);
  }
  await engine.putArchive(containerId, Buffer.concat(chunks));
}

/** What readFile reads at most by default: setup files and state files are far smaller. */
export const DEFAULT_MAX_FILE_BYTES = 1024 ** 2;

/**
 * Reads one file from a container; undefined when it does not exist or is not
 * a regular file (a folder, a link, a device). The file may be an agent's: one
 * larger than `maxBytes` is not read at all (TooLargeError), and nothing after
 * the file's own entry is.
 */
export async function readFile(engine: ArchiveEngine, containerId: string, path: string, options: { readonly maxBytes?: number } = {}): Promise<Buffer | undefined> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const archive = await engine.getArchive(containerId, path);
  if (!archive) {
    return undefined;
  }
  const extract = tar.extract();
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    // The path's own entry comes first: it alone decides.
    for await (const entry of extract) {
      if (entry.header.type !== 'file') {
        return undefined;
      }
      if ((entry.header.size ?? 0) > maxBytes) {
        throw new TooLargeError(`${path} in the container`, maxBytes);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          throw new TooLargeError(`${path} in the container`, maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    }
    return undefined;
  } finally {
    // Stop the engine's stream: what is left is not read.
    (archive as Partial<Readable>).destroy?.();
    extract.destroy();
  }
}

/** Streams a host file into a container (its folder must exist), without reading it into memory. */
export async function putHostFile(engine: ArchiveEngine, containerId: string, hostPath: string, path: string): Promise<void> {
  const pack = tar.pack();
  const entry = pack.entry({ name: posix.relative('/', path), size: statSync(hostPath).size, mode: 0o644 });
  createReadStream(hostPath).pipe(entry as unknown as NodeJS.WritableStream).on('finish', () => pack.finalize());
  await engine.putArchive(containerId, Readable.from(pack));
}

/** A host file to put in a container, under the name it gets there (relative, no `..`). */
export interface HostFileEntry {
  readonly hostPath: string;
  readonly name: string;
  /** Its size when it was chosen: exactly this much of it is sent. */
  readonly size: number;
}

export interface HostFilesTransfer {
  readonly dir: string;
  readonly files: readonly HostFileEntry[];
  /** Small files of gitiso's own (name under `dir`, content), put after the host files and before the marker. */
  readonly notes?: readonly { readonly name: string; readonly content: string }[];
  /** An empty file put last, under `dir`: a container already running knows from it that all the others are there. */
  readonly completeMarker?: string;
}

/**
 * Streams host files into a container under `dir` (made, with its folders,
 * writable by the container's user, who moves the files on), in one archive.
 * Each is opened without following a link and must be a regular file of the
 * size it was chosen at, all of them before a byte is sent: a file swapped for
 * a link to another of the host's files, or one that changed, fails the
 * transfer; and never more than the chosen size of a file is read.
 */
export async function putHostFiles(engine: ArchiveEngine, containerId: string, transfer: HostFilesTransfer): Promise<void> {
  const root = posix.relative('/', transfer.dir);
  for (const file of transfer.files) {
    plainName(file.name);
    await (await openChosen(file)).close();
  }
  for (const note of transfer.notes ?? []) {
    plainName(note.name);
  }
  const pack = tar.pack();
  const body = Readable.from(pack);
  // A failure below fails the engine's request too; the error itself is thrown there.
  body.on('error', () => undefined);
  const sent = engine.putArchive(containerId, body);
  sent.catch(() => undefined); // awaited below, once the archive is written
  try {
    const folders = new Set<string>(['']);
    for (const file of transfer.files) {
      for (let dir = posix.dirname(file.name); dir !== '.'; dir = posix.dirname(dir)) {
        folders.add(dir);
      }
    }
    for (const folder of [...folders].sort()) {
      pack.entry({ name: `${posix.join(root, folder)}/`, type: 'directory', mode: 0o777 });
    }
    for (const file of transfer.files) {
      await appendHostFile(pack, { ...file, name: posix.join(root, file.name) });
    }
    for (const note of transfer.notes ?? []) {
      pack.entry({ name: posix.join(root, note.name), mode: 0o444 }, Buffer.from(note.content));
    }
    if (transfer.completeMarker) {
      pack.entry({ name: posix.join(root, transfer.completeMarker), mode: 0o444 }, Buffer.alloc(0));
    }
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    throw error;
  }
  await sent;
}

/** `name` if it is a plain relative name (no `..`, not absolute, normalized); else an error. */
function plainName(name: string): string {
  const normalized = posix.normalize(name);
  if (normalized.startsWith('..') || posix.isAbsolute(normalized) || normalized !== name) {
    throw new Error(`refusing to send ${name}: not a plain relative name`);
  }
  return name;
}

/** The file, opened without following a link, if it is still the regular file of the size chosen. */
async function openChosen(file: HostFileEntry): Promise<FileHandle> {
  const handle = await open(file.hostPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  const stat = await handle.stat();
  if (!stat.isFile() || stat.size !== file.size) {
    await handle.close();
    throw new Error(`${file.hostPath} changed since it was chosen to be sent`);
  }
  return handle;
}

async function appendHostFile(pack: tar.Pack, file: HostFileEntry): Promise<void> {
  const handle = await openChosen(file);
  try {
    const header = { name: file.name, size: file.size, mode: 0o444 };
    if (file.size === 0) {
      pack.entry(header, Buffer.alloc(0));
      return;
    }
    const entry = pack.entry(header);
    const done = new Promise<void>((resolve, reject) => {
      entry.on('finish', resolve);
      entry.on('error', reject);
    });
    handle.createReadStream({ start: 0, end: file.size - 1, autoClose: false }).pipe(entry as unknown as NodeJS.WritableStream);
    await done;
  } finally {
    await handle.close();
  }
}
