import { createReadStream, statSync } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { InvalidInputError } from '../errors';
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

/** The most readFile takes by default: the files gitiso reads from containers are small, and a container must not make the host hold gigabytes. */
export const READ_FILE_MAX_BYTES = 1024 ** 2;

/** Reads one file from a container; undefined when it does not exist; an error, before it is read, when it is larger than `maxBytes`. */
export async function readFile(engine: ArchiveEngine, containerId: string, path: string, maxBytes = READ_FILE_MAX_BYTES): Promise<Buffer | undefined> {
  const archive = await engine.getArchive(containerId, path);
  if (!archive) {
    return undefined;
  }
  const extract = tar.extract();
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  let content: Buffer | undefined;
  try {
    for await (const entry of extract) {
      if (content === undefined && entry.header.type === 'file') {
        if ((entry.header.size ?? 0) > maxBytes) {
          throw new InvalidInputError(`${path} in the container is ${entry.header.size ?? 0} bytes, more than the ${maxBytes} gitiso reads: make it smaller`);
        }
        const chunks: Buffer[] = [];
        for await (const chunk of entry) {
          chunks.push(chunk as Buffer);
        }
        content = Buffer.concat(chunks);
      } else {
        entry.resume();
      }
    }
  } finally {
    // Stops the engine's stream too when the read ends early.
    (archive as Partial<Readable>).destroy?.();
  }
  return content;
}

/** Streams a host file into a container (its folder must exist), without reading it into memory. */
export async function putHostFile(engine: ArchiveEngine, containerId: string, hostPath: string, path: string): Promise<void> {
  const pack = tar.pack();
  const entry = pack.entry({ name: posix.relative('/', path), size: statSync(hostPath).size, mode: 0o644 });
  createReadStream(hostPath).pipe(entry as unknown as NodeJS.WritableStream).on('finish', () => pack.finalize());
  await engine.putArchive(containerId, Readable.from(pack));
}
