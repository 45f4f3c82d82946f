import * as tar from 'tar-stream';
import { checkedCommit } from '../git/objectId';
import { hostGit } from '../git/nonInteractiveGit';

/** Many files at one commit of a mirror. */
export interface FilesAt {
  readonly poolPath: string;
  readonly commit: string;
  readonly paths: readonly string[];
  /** A file larger than this is not read ('too-large'). */
  readonly maxBytes: number;
  /** What one call reads at most in all; files past it are left out of the answer (read them one by one if needed). */
  readonly maxTotalBytes: number;
  readonly signal?: AbortSignal;
}

/** A file's content; `too-large` past maxBytes; `missing` when the commit has no regular file there. */
export type FileAtCommit = Buffer | 'too-large' | 'missing';

/** Paths per `git archive`: well inside any command-line limit. */
const PATHS_PER_ARCHIVE = 200;

/**
 * Reads many files at a commit in a few git processes (one `ls-tree` for the
 * sizes, one `archive` per 200 files) instead of two per file: a review of 50
 * files opens 100 documents at once. The objects may be an agent's: sizes are
 * checked before anything is read, links and submodules are not read here,
 * and the archive takes no attributes from the commit (`--worktree-attributes`
 * in a bare mirror), so `export-subst` or `export-ignore` cannot change what is shown.
 */
export async function readFilesAtCommit(at: FilesAt): Promise<Map<string, FileAtCommit>> {
  checkedCommit(at.commit);
  const git = await hostGit({ baseDir: at.poolPath, signal: at.signal });
  const wanted = [...new Set(at.paths.map((path) => path.replace(/^\/+/, '')).filter(Boolean))];
  const result = new Map<string, FileAtCommit>();
  if (wanted.length === 0) {
    return result;
  }
  const entries = parseLsTree(await git.raw(['ls-tree', '-r', '-l', '-z', at.commit, '--', ...wanted]));
  const toRead: string[] = [];
  let total = 0;
  for (const path of wanted) {
    const entry = entries.get(path);
    if (!entry || entry.type !== 'blob' || entry.mode === '120000') {
      // A link's target is read one by one; no entry, a folder or a submodule is no file.
      if (entry?.mode !== '120000') {
        result.set(path, 'missing');
      }
    } else if (entry.size > at.maxBytes) {
      result.set(path, 'too-large');
    } else if (total + entry.size <= at.maxTotalBytes) {
      total += entry.size;
      toRead.push(path);
    }
  }
  for (let start = 0; start < toRead.length; start += PATHS_PER_ARCHIVE) {
    const chunk = toRead.slice(start, start + PATHS_PER_ARCHIVE);
    const archived = await archiveOf(git, at.commit, chunk);
    const asked = new Set(chunk);
    for (const [path, content] of await filesOfTar(archived)) {
      if (asked.has(path)) {
        result.set(path, content);
      }
    }
  }
  return result;
}

interface TreeEntry {
  readonly mode: string;
  readonly type: string;
  readonly size: number;
}

/** `ls-tree -l -z` lines: `<mode> <type> <object> <size>\t<path>`. */
export function parseLsTree(output: string): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>();
  for (const line of output.split('\0')) {
    const match = /^(\d{6}) (\w+) [0-9a-f]+ +(\d+|-)\t(.+)$/s.exec(line);
    if (match) {
      const [, mode = '', type = '', size = '-', path = ''] = match;
      entries.set(path, { mode, type, size: size === '-' ? 0 : Number(size) });
    }
  }
  return entries;
}

/** The archive's bytes, taken from git's stdout as it comes (simple-git's own answer is text). */
async function archiveOf(git: Awaited<ReturnType<typeof hostGit>>, commit: string, paths: readonly string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  git.outputHandler((_command, stdout) => {
    stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  });
  await git.raw(['--literal-pathspecs', 'archive', '--format=tar', '--worktree-attributes', commit, '--', ...paths]);
  return Buffer.concat(chunks);
}

async function filesOfTar(archive: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.end(archive);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) {
      chunks.push(chunk as Buffer);
    }
    if (entry.header.type === 'file') {
      files.set(entry.header.name, Buffer.concat(chunks));
    }
  }
  return files;
}
