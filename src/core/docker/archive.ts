import { posix } from 'node:path';
import type Docker from 'dockerode';
import * as tar from 'tar-stream';

/** Writes one file into a container (its folder is created), through the engine's archive API: no exec, no shell. */
export async function putFile(docker: Docker, containerId: string, path: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const pack = tar.pack();
  pack.entry({ name: posix.relative('/', posix.dirname(path)) + '/', type: 'directory', mode: 0o755 });
  pack.entry({ name: posix.relative('/', path), mode }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) {
    chunks.push(chunk as Buffer);
  }
  await docker.getContainer(containerId).putArchive(Buffer.concat(chunks), { path: '/' });
}

/** Reads one file from a container; undefined when it does not exist. */
export async function readFile(docker: Docker, containerId: string, path: string): Promise<Buffer | undefined> {
  let archive: NodeJS.ReadableStream;
  try {
    archive = await docker.getContainer(containerId).getArchive({ path });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      return undefined;
    }
    throw error;
  }
  const extract = tar.extract();
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  let content: Buffer | undefined;
  for await (const entry of extract) {
    if (content === undefined && entry.header.type === 'file') {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) {
        chunks.push(chunk as Buffer);
      }
      content = Buffer.concat(chunks);
    } else {
      entry.resume();
    }
  }
  return content;
}
