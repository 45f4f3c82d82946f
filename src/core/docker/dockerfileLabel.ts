import { InvalidInputError } from '../errors';

/**
 * A `LABEL` instruction for a commit's changes, which the engine reads as
 * Dockerfile: the value is double-quoted with `\`, `"` and `$` escaped, so
 * nothing in it is expanded (`$HOME`, `${X:-y}`) and nothing ends it early.
 * Dockerfile has no escape for a line break, and a raw one would start a new
 * instruction, so control characters become spaces.
 */
export function labelChange(key: string, value: string): string {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(key)) {
    throw new InvalidInputError(`'${key}' cannot be a label key: use letters, digits, ".", "_" or "-"`);
  }
  // eslint-disable-next-line no-control-regex
  const oneLine = value.replace(/[\x00-\x1f\x7f]/g, ' ');
  return `LABEL ${key}="${oneLine.replace(/[\\"$]/g, (char) => `\\${char}`)}"`;
}
