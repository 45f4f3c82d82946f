import { InvalidInputError } from '../errors';
import { OBJECT_ID } from '../git/objectId';


/** The header of a git bundle: which commits it needs the receiver to have, and which refs it says it holds. */
export interface BundleHeader {
  readonly prerequisites: readonly string[];
  readonly refs: ReadonlyMap<string, string>;
}

/** A header longer than this is not one gitiso asked for. */
export const MAX_BUNDLE_HEADER_BYTES = 1024 * 1024;

/**
 * Reads a bundle's header (v2 or v3: a signature line, v3 capabilities,
 * `-OID comment` prerequisites, `OID refname` refs, then an empty line). What
 * an agent sent is untrusted: anything else is an error, not a guess.
 */
export function parseBundleHeader(start: Buffer): BundleHeader {
  const end = start.indexOf('\n\n');
  if (end < 0 || end > MAX_BUNDLE_HEADER_BYTES) {
    throw new InvalidInputError('what the agent sent is not a git bundle (no header)');
  }
  const [signature, ...lines] = start.subarray(0, end).toString('utf8').split('\n');
  if (signature !== '# v2 git bundle' && signature !== '# v3 git bundle') {
    throw new InvalidInputError('what the agent sent is not a git bundle');
  }
  const prerequisites: string[] = [];
  const refs = new Map<string, string>();
  for (const line of lines) {
    if (line.startsWith('@')) {
      continue; // a v3 capability (object-format, filter)
    }
    const prerequisite = /^-(\S+)(?: .*)?$/.exec(line);
    const ref = /^(\S+) (\S+)$/.exec(line);
    if (prerequisite?.[1] && OBJECT_ID.test(prerequisite[1])) {
      prerequisites.push(prerequisite[1]);
    } else if (ref?.[1] && ref[2] && OBJECT_ID.test(ref[1]) && !refs.has(ref[2])) {
      refs.set(ref[2], ref[1]);
    } else {
      throw new InvalidInputError('what the agent sent is not a git bundle (a header line is neither a prerequisite nor a ref, or names a ref twice)');
    }
  }
  return { prerequisites, refs };
}
