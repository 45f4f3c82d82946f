import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What gitiso keeps in the system's temporary folder, each in a folder of its own. */
export type TempKind = 'bundle' | 'delta' | 'sync';
export const TEMP_KINDS: readonly TempKind[] = ['bundle', 'delta', 'sync'];

/**
 * A new temporary folder named `gitiso-KIND-PID-XXXXXX`: the pid says whose it
 * is, so one left by a crashed process is known as such (see doctor/).
 */
export function makeOwnedTempDir(kind: TempKind): string {
  return mkdtempSync(join(tmpdir(), `gitiso-${kind}-${process.pid}-`));
}

/** The kind and owner pid of a temporary folder's name; the pid is absent in names older versions made. */
export function parseTempName(name: string): { kind: TempKind; pid?: number } | undefined {
  const match = /^gitiso-(bundle|delta|sync)-(?:(\d+)-)?[^-]+$/.exec(name);
  if (!match) {
    return undefined;
  }
  return { kind: match[1] as TempKind, ...(match[2] ? { pid: Number(match[2]) } : {}) };
}
