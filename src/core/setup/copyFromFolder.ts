import { constants, promises as fs, type Stats } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { describeCause } from '../errors';
import { hasGitFolder, validateCopyPath } from './repoSetup';

/** The largest file copied into an agent (a `.env`, a local config): anything bigger is skipped. */
export const MAX_COPY_BYTES = 1024 * 1024;

/** A file read for copying: where it goes under /workspace, what it holds, its permission bits. */
export interface FileToCopy {
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
}

/** A file read, or why it is not copied (said in the log). */
export type CopyRead = { readonly file: FileToCopy } | { readonly skipped: string };

/**
 * Reads a file to copy from the user's folder, or says why it is skipped. Only
 * a regular file whose real path (links resolved) stays inside the folder's
 * real path, outside any `.git`, at most `maxBytes`. The checked path is
 * opened without following a last link, and the opened file must be the one
 * checked (same device and inode, reached with no link on the way), so a link
 * swapped in between the check and the read cannot lead outside.
 */
export async function readFileToCopy(folder: string, path: string, maxBytes = MAX_COPY_BYTES): Promise<CopyRead> {
  let relativePath: string;
  try {
    relativePath = validateCopyPath(path);
  } catch (error) {
    return { skipped: describeCause(error) };
  }
  const root = await fs.realpath(folder);
  let real: string;
  try {
    real = await fs.realpath(join(root, relativePath));
  } catch {
    return { skipped: `'${path}' is not a file in ${folder}` };
  }
  const inside = relative(root, real);
  if (!inside || isAbsolute(inside) || inside.split(/[\\/]/)[0] === '..') {
    return { skipped: `'${path}' leads outside ${folder} (to ${real})` };
  }
  if (hasGitFolder(inside)) {
    return { skipped: `'${path}' leads into .git (${inside})` };
  }
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK: a FIFO put there must not hang the create.
    handle = await fs.open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    return { skipped: `'${path}' could not be opened: ${describeCause(error)}` };
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) {
      return { skipped: `'${path}' is not a regular file` };
    }
    if (opened.size > maxBytes) {
      return { skipped: `'${path}' is ${opened.size} bytes, more than the ${maxBytes} a copied file may have` };
    }
    if (!(await stillAt(real, opened))) {
      return { skipped: `'${path}' changed while it was being copied` };
    }
    const content = await readAtMost(handle, maxBytes + 1);
    if (content.length > maxBytes) {
      return { skipped: `'${path}' grew past the ${maxBytes} bytes a copied file may have` };
    }
    return { file: { path: relativePath, content, mode: opened.mode & 0o777 } };
  } finally {
    await handle.close();
  }
}

/** Whether the opened file is the one at `real`, with no link on the way to it now. */
async function stillAt(real: string, opened: Stats): Promise<boolean> {
  try {
    const [again, now] = await Promise.all([fs.realpath(real), fs.lstat(real)]);
    return again === real && now.dev === opened.dev && now.ino === opened.ino;
  } catch {
    return false;
  }
}

async function readAtMost(handle: fs.FileHandle, limit: number): Promise<Buffer> {
  const buffer = Buffer.alloc(limit);
  let length = 0;
  while (length < limit) {
    const { bytesRead } = await handle.read(buffer, length, limit - length, length);
    if (bytesRead === 0) {
      break;
    }
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}
