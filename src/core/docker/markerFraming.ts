/** A marker line after its prefix is "pid:<n>" or "end:<n>": a few bytes. */
const MAX_MARKER_TEXT = 24;
const MARKER_TEXT = /^(pid|end):(\d{1,10})$/;
const NEWLINE = 10;
const EMPTY = Buffer.alloc(0);

export interface FramingSink {
  output(bytes: Buffer): void;
  marker(kind: 'pid' | 'end', value: number): void;
}

/**
 * Splits one stream of one command on the exec channel into the command's
 * output and the channel's markers. A marker is exactly the line
 * "\0<nonce>:pid:<n>" or "\0<nonce>:end:<n>", where the nonce is the
 * command's own secret; every other byte, NULs and look-alikes included, is
 * output and passes on unchanged. Only what may still become a marker is held
 * back until the next chunk.
 */
export class MarkerFraming {
  private held = EMPTY;

  /** `prefix` is "\0<nonce>:". */
  constructor(
    private readonly prefix: Buffer,
    private readonly sink: FramingSink,
  ) {}

  push(chunk: Buffer): void {
    let buffer = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    let holdFrom: number | undefined;
    for (;;) {
      const at = buffer.indexOf(this.prefix);
      if (at < 0) {
        break;
      }
      const textStart = at + this.prefix.length;
      const newline = buffer.indexOf(NEWLINE, textStart);
      if (newline < 0 && buffer.length - textStart <= MAX_MARKER_TEXT) {
        holdFrom = at; // the marker's end is yet to come
        break;
      }
      const match = newline >= 0 && newline - textStart <= MAX_MARKER_TEXT ? MARKER_TEXT.exec(buffer.toString('latin1', textStart, newline)) : null;
      if (!match) {
        // Not a marker after all: output, and the search goes on past its prefix.
        this.sink.output(buffer.subarray(0, textStart));
        buffer = buffer.subarray(textStart);
        continue;
      }
      this.sink.output(buffer.subarray(0, at));
      buffer = buffer.subarray(newline + 1);
      this.sink.marker(match[1] as 'pid' | 'end', Number(match[2]));
    }
    holdFrom ??= partialPrefixAt(buffer, this.prefix);
    this.sink.output(buffer.subarray(0, holdFrom));
    this.held = holdFrom < buffer.length ? Buffer.from(buffer.subarray(holdFrom)) : EMPTY;
  }
}

/** Where the longest end of `buffer` that begins `prefix` starts (its length when none does). */
export function partialPrefixAt(buffer: Buffer, prefix: Buffer): number {
  for (let at = Math.max(0, buffer.length - prefix.length + 1); at < buffer.length; at++) {
    if (buffer[at] === prefix[0] && buffer.subarray(at).equals(prefix.subarray(0, buffer.length - at))) {
      return at;
    }
  }
  return buffer.length;
}
