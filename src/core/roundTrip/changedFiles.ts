import type { ChangedFile, ChangeStatus } from './roundTripTypes';

/** What `git diff --numstat -z` says of one file. */
interface LineCounts {
  readonly path: string;
  readonly added?: number;
  readonly removed?: number;
}

/** What `git diff --name-status -z` says of one file. */
interface FileStatus {
  readonly path: string;
  readonly oldPath?: string;
  readonly status: ChangeStatus;
}

const STATUS_LETTERS: Readonly<Record<string, ChangeStatus>> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'typechange',
};

/**
 * The files of a diff, from the NUL-separated output of `git diff -z
 * --numstat` and `git diff -z --name-status` over the same two commits (paths
 * may hold any byte but NUL: spaces, tabs, newlines). Counts are undefined for
 * binary files (git prints `-`).
 */
export function parseChangedFiles(numstat: string, nameStatus: string): ChangedFile[] {
  const counts = new Map(parseNumstat(numstat).map((entry) => [entry.path, entry]));
  return parseNameStatus(nameStatus).map((file) => {
    const count = counts.get(file.path);
    return {
      path: file.path,
      ...(file.oldPath !== undefined ? { oldPath: file.oldPath } : {}),
      status: file.status,
      ...(count?.added !== undefined ? { added: count.added } : {}),
      ...(count?.removed !== undefined ? { removed: count.removed } : {}),
    };
  });
}

/** `A\tR\tpath\0`, or for a rename or copy `A\tR\t\0old\0new\0`. */
function parseNumstat(text: string): LineCounts[] {
  const fields = text.split('\0');
  const entries: LineCounts[] = [];
  for (let i = 0; i < fields.length; i++) {
    const match = /^(-|\d+)\t(-|\d+)\t([\s\S]*)$/.exec(fields[i] ?? '');
    if (!match) {
      continue;
    }
    let path = match[3] ?? '';
    if (path === '') {
      // A rename: the old path, then the new one, as fields of their own.
      path = fields[i + 2] ?? '';
      i += 2;
    }
    entries.push({ path, ...(match[1] === '-' ? {} : { added: Number(match[1]), removed: Number(match[2]) }) });
  }
  return entries;
}

/** `M\0path\0`, or for a rename or copy `R100\0old\0new\0`. */
function parseNameStatus(text: string): FileStatus[] {
  const fields = text.split('\0');
  const entries: FileStatus[] = [];
  for (let i = 0; i + 1 < fields.length; ) {
    const letter = (fields[i] ?? '').charAt(0);
    const status = STATUS_LETTERS[letter];
    if (letter === 'R' || letter === 'C') {
      entries.push({ status: status ?? 'renamed', oldPath: fields[i + 1] ?? '', path: fields[i + 2] ?? '' });
      i += 3;
      continue;
    }
    if (status) {
      entries.push({ status, path: fields[i + 1] ?? '' });
    }
    i += 2;
  }
  return entries.filter((entry) => entry.path !== '');
}
