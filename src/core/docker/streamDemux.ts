/** The engine's header before each piece of an attached non-TTY stream: its stream (1 stdout, 2 stderr), three zeros, the payload's length (big-endian). */
const HEADER_BYTES = 8;
const STDOUT = 1;
const STDERR = 2;

type Sink = (chunk: Buffer) => void;

/**
 * Splits an attached, non-TTY stream into its stdout and stderr as its bytes
 * arrive. Every probe's output passes here, so it copies nothing but the
 * headers: the payload goes on as views of what the socket read (consumers
 * that keep bytes copy them), a frame cut across reads goes on in pieces,
 * and several frames in one read cost one pass. Not dockerode's demuxStream,
 * which concatenates and copies its whole buffer on every read and pushes
 * each piece through a Writable.
 */
export class StreamDemux {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  private target: Sink;
  /** After a header that names no stream (a TTY stream, or misaligned): everything is stdout, as dockerode did. */
  private raw = false;

  constructor(
    private readonly onStdout: Sink,
    private readonly onStderr: Sink,
  ) {
    this.target = onStdout;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.raw) {
        this.onStdout(chunk.subarray(at));
        return;
      }
      if (this.remaining > 0) {
        const end = Math.min(chunk.length, at + this.remaining);
        this.remaining -= end - at;
        this.target(chunk.subarray(at, end));
        at = end;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - at);
      chunk.copy(this.header, this.headerFill, at, at + take);
      this.headerFill += take;
      at += take;
      if (this.headerFill < HEADER_BYTES) {
        return; // the header's rest comes with the next read
      }
      this.headerFill = 0;
      const stream = this.header[0];
      if (stream !== 0 && stream !== STDOUT && stream !== STDERR) {
        this.raw = true;
        this.onStdout(Buffer.from(this.header));
        continue;
      }
      this.target = stream === STDOUT ? this.onStdout : this.onStderr;
      this.remaining = this.header.readUInt32BE(4);
    }
  }
}

/** Demultiplexes `stream` into the two callbacks from now on. */
export function demuxStream(stream: NodeJS.ReadableStream, onStdout: Sink, onStderr: Sink): void {
  const demux = new StreamDemux(onStdout, onStderr);
  stream.on('data', (chunk: Buffer) => demux.push(chunk));
}
