/** How much of each of a command's streams is kept by default: far more than git prints, far less than a runaway command can. */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * One stream of a command's output, kept up to a bound. What comes from an
 * agent is untrusted: past the bound the head is kept, the rest dropped, and
 * the result says it was cut, so a command that prints without end costs
 * the host no more memory than the bound.
 */
export class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private cut = false;

  constructor(private readonly maxBytes = DEFAULT_MAX_OUTPUT_BYTES) {}

  push(chunk: Buffer): void {
    const room = this.maxBytes - this.size;
    if (chunk.length > room) {
      this.cut = true;
      chunk = chunk.subarray(0, Math.max(0, room));
    }
    if (chunk.length > 0) {
      // A copy: a slice would keep its whole parent buffer alive.
      this.chunks.push(Buffer.from(chunk));
      this.size += chunk.length;
    }
  }

  get truncated(): boolean {
    return this.cut;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.size).toString('utf8');
  }
}
