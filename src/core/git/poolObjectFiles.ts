import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One file of a repository's object store, to send as it is. */
export interface ObjectFile {
  /** Where it is on the host. */
  readonly hostPath: string;
  /** Its path under `objects/`: `pack/pack-<id>.pack`, `pack/pack-<id>.idx` or `<2 hex>/<rest of the id>`. */
  readonly name: string;
  readonly size: number;
}

const PACK_NAME = /^pack-([0-9a-f]{40}|[0-9a-f]{64})\.(pack|idx)$/;
const FANOUT_NAME = /^[0-9a-f]{2}$/;
const LOOSE_NAME = /^([0-9a-f]{38}|[0-9a-f]{62})$/;

/**
 * The files of an object store (`objects/` of a bare repository) that hold
 * objects: each pack with its index (a pack still being written has none yet,
 * and is left out), and the loose objects. Only regular files with git's own
 * names: never a link (it could point at any file of the host), never
 * `info/alternates` or anything else.
 */
export function listObjectFiles(objectsDir: string): ObjectFile[] {
  const files: ObjectFile[] = [];
  const packDir = join(objectsDir, 'pack');
  const packs = new Map<string, Map<string, ObjectFile>>();
  for (const name of safeList(packDir)) {
    const match = PACK_NAME.exec(name);
    const file = match && regularFile(join(packDir, name), `pack/${name}`);
    if (match && file) {
      const pair = packs.get(match[1] as string) ?? new Map<string, ObjectFile>();
      pair.set(match[2] as string, file);
      packs.set(match[1] as string, pair);
    }
  }
  for (const pair of packs.values()) {
    const pack = pair.get('pack');
    const index = pair.get('idx');
    if (pack && index) {
      files.push(pack, index);
    }
  }
  for (const fanout of safeList(objectsDir).filter((name) => FANOUT_NAME.test(name))) {
    const dir = join(objectsDir, fanout);
    if (!lstatSync(dir).isDirectory()) {
      continue;
    }
    for (const name of safeList(dir).filter((n) => LOOSE_NAME.test(n))) {
      const file = regularFile(join(dir, name), `${fanout}/${name}`);
      if (file) {
        files.push(file);
      }
    }
  }
  return files;
}

function regularFile(hostPath: string, name: string): ObjectFile | undefined {
  const stat = lstatSync(hostPath, { throwIfNoEntry: false });
  return stat?.isFile() ? { hostPath, name, size: stat.size } : undefined;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
