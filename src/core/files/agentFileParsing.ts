import { shown } from '../names';
import { AgentFileError, type AgentFileProblem } from './agentFileError';

/** What a file is, as VS Code's FileType counts it: a link is a flag on the type of what it points to. */
export const FILE_TYPE = { unknown: 0, file: 1, directory: 2, symbolicLink: 64 } as const;

export interface AgentFileStat {
  /** FILE_TYPE bits. */
  readonly type: number;
  readonly size: number;
  /** Milliseconds since the epoch. */
  readonly mtime: number;
  readonly ctime: number;
  /** The raw mode's file type was a symbolic link (then `type` is what it points to, when that could be read). */
  readonly isLink: boolean;
}

/** `stat -c STAT_FORMAT`: raw mode in hex, size, modification, birth and change times with milliseconds. */
export const STAT_FORMAT = '%f %s %.3Y %.3W %.3Z';

/** `find -printf DIRECTORY_FORMAT`: the entry's type, the type it points to, its name; NUL-terminated (a name may hold anything else). */
export const DIRECTORY_FORMAT = '%y%Y %P\\0';

const S_IFMT = 0o170000;
const MODE_TYPES: Record<number, number> = { 0o100000: FILE_TYPE.file, 0o040000: FILE_TYPE.directory, 0o120000: FILE_TYPE.symbolicLink };

function seconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+(\.\d+)?$/.test(text)) {
    return undefined;
  }
  return Math.round(Number(text) * 1000);
}

/** Parses one line of `stat -c STAT_FORMAT` (untrusted: the agent's stat printed it). */
export function parseStat(output: string): AgentFileStat {
  const words = output.trim().split(' ');
  const mode = /^[0-9a-f]{1,8}$/.test(words[0] ?? '') ? parseInt(words[0] ?? '', 16) : NaN;
  const size = /^\d+$/.test(words[1] ?? '') ? Number(words[1]) : NaN;
  const mtime = seconds(words[2]);
  const birth = seconds(words[3]);
  const change = seconds(words[4]);
  if (words.length !== 5 || Number.isNaN(mode) || Number.isNaN(size) || mtime === undefined || change === undefined) {
    throw new AgentFileError('other', `the agent's stat printed something unexpected: '${shown(output)}'`);
  }
  const type = MODE_TYPES[mode & S_IFMT] ?? FILE_TYPE.unknown;
  return { type, size, mtime, ctime: birth !== undefined && birth > 0 ? birth : change, isLink: type === FILE_TYPE.symbolicLink };
}

/** A link's stat with what it points to (`target`), or unknown when it points nowhere. */
export function linkStat(link: AgentFileStat, target: AgentFileStat | undefined): AgentFileStat {
  return target ? { ...target, type: target.type | FILE_TYPE.symbolicLink, isLink: true } : { ...link, type: FILE_TYPE.unknown | FILE_TYPE.symbolicLink };
}

/** find's %y / %Y letters. N (nowhere), L (a loop) and ? (unreadable) are unknown. */
function findType(letter: string): number {
  return letter === 'f' ? FILE_TYPE.file : letter === 'd' ? FILE_TYPE.directory : FILE_TYPE.unknown;
}

export interface DirectoryListing {
  /** The listed path's own type, links followed. */
  readonly type: number;
  readonly entries: readonly (readonly [name: string, type: number])[];
}

/**
 * Parses `find -H PATH -maxdepth 1 -printf DIRECTORY_FORMAT`: first the path
 * itself (an empty name), then its entries. Untrusted: a record that is not
 * an entry of one folder (empty, ".", "..", a "/") is dropped.
 */
export function parseDirectory(output: string): DirectoryListing {
  const records = output.split('\0');
  records.pop(); // what follows the last NUL: nothing, or a cut record
  let type: number | undefined;
  const entries: [string, number][] = [];
  for (const record of records) {
    if (record.length < 3 || record[2] !== ' ') {
      continue;
    }
    const own = record[0] ?? '';
    const target = record[1] ?? '';
    const name = record.slice(3);
    if (name === '') {
      if (target === 'N') {
        throw new AgentFileError('not-found', 'the folder is a link that points to nothing in the agent');
      }
      type ??= findType(target);
      continue;
    }
    if (name === '.' || name === '..' || name.includes('/')) {
      continue;
    }
    entries.push([name, own === 'l' ? FILE_TYPE.symbolicLink | findType(target) : findType(own)]);
  }
  if (type === undefined) {
    throw new AgentFileError('other', 'the agent\'s find printed no entry for the folder itself');
  }
  return { type, entries };
}

/** The problem a failed command's stderr names (coreutils' wording), 'other' when it names none of them. */
export function problemOf(stderr: string): AgentFileProblem {
  if (/No such file or directory|Directory nonexistent/.test(stderr)) {
    return 'not-found';
  }
  if (/Not a directory/.test(stderr)) {
    return 'not-directory';
  }
  if (/Is a directory|cannot overwrite non-directory/.test(stderr)) {
    return 'is-directory';
  }
  if (/File exists/.test(stderr)) {
    return 'exists';
  }
  if (/Permission denied|Operation not permitted|Read-only file system/.test(stderr)) {
    return 'no-permission';
  }
  return 'other';
}

/** The NUL-separated paths of `git ls-files -z`, at most `max` of them; `complete` is false when some were left out. */
export function parsePathList(output: string, max: number, cut: boolean): { readonly paths: string[]; readonly complete: boolean } {
  const records = output.split('\0');
  const last = records.pop();
  const paths = records.filter((path) => path !== '');
  const complete = !cut && (last === '' || last === undefined) && paths.length <= max;
  return { paths: paths.slice(0, max), complete };
}
