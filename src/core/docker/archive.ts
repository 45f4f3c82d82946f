import { createReadStream, statSync } from 'node:fs';
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
