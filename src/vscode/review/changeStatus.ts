import type { ChangeStatus, ChangedFile } from '../../core/roundTrip/roundTripTypes';

/** The letter git and VS Code's Source Control view use for a status. */
export const STATUS_LETTERS: Record<ChangeStatus, string> = {
  added: 'A',
  modified: 'M',
  deleted: 'D',
  renamed: 'R',
  copied: 'C',
  typechange: 'T',
};

/** `+3 −1`, or `binary` when git counted no lines. */
export function countsOf(file: ChangedFile): string {
  return file.added === undefined || file.removed === undefined ? 'binary' : `+${file.added} −${file.removed}`;
}

/** "3 files changed", "1 file changed". */
export function filesChanged(count: number): string {
  return `${count} file${count === 1 ? '' : 's'} changed`;
}

/** What an agent's changes are measured against, for people: its base branch, else the base commit. */
export function baseName(baseBranch: string | undefined, base: string): string {
  return baseBranch || base.slice(0, 12);
}
