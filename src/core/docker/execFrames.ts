/** Which stream a frame of a non-TTY attach carries. */
export type FrameStream = 'stdout' | 'stderr';

const HEADER_BYTES = 8;

/**
 * The engine's framing of a non-TTY attach (stdout and stderr on one
 * connection: an 8-byte header, stream and length, then the payload), split
 * as the bytes come: a frame's payload is handed on in the pieces it arrives
 * in, so nothing waits for a whole frame and nothing is held but a header.
 */
export class FrameReader {
  private header = Buffer.alloc(0);
  private stream: FrameStream | undefined;
  private remaining = 0;

  constructor(private readonly onPayload: (stream: FrameStream, chunk: Buffer) => void) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        const needed = HEADER_BYTES - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + needed)]);
        offset += Math.min(needed, chunk.length - offset);
        if (this.header.length === HEADER_BYTES) {
          // 2 is stderr; 1 is stdout (0, stdin, is never sent back: read as stdout, as the engine's own client does).
          this.stream = this.header[0] === 2 ? 'stderr' : 'stdout';
          this.remaining = this.header.readUInt32BE(4);
          this.header = Buffer.alloc(0);
        }
        continue;
      }
      const piece = chunk.subarray(offset, offset + this.remaining);
      offset += piece.length;
      this.remaining -= piece.length;
      this.onPayload(this.stream ?? 'stdout', piece);
    }
  }
}
