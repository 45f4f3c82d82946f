/**
 * The frames a connection mux's two ends exchange over one exec stream (see
 * connectionMux.ts): a kind byte, a connection number and a length (both 32-bit,
 * big-endian), then that many bytes. The agent's side can write anything on
 * that stream (any root process in its container can), so every frame read
 * from it is checked: a known kind, a bounded length.
 */
export type FrameKind =
  /** Agent → host: the program is up (connection 0). */
  | 'L'
  /** A new connection: agent → host from a listening mux, host → agent for a connecting one. */
  | 'O'
  /** Both ways: bytes of a connection. */
  | 'D'
  /** Both ways: the sender's side of the connection ended (half-close). */
  | 'E'
  /** Both ways: the connection is gone. */
  | 'C'
  /** Agent → host: the container has no program to listen with. */
  | 'N';

export interface MuxFrame {
  readonly kind: FrameKind;
  readonly connection: number;
  readonly data: Buffer;
}

export const FRAME_HEADER_BYTES = 9;
/** The most a frame carries: each end splits what it has into frames this big. */
export const MAX_FRAME_DATA = 64 * 1024;
const KINDS = new Set<string>(['L', 'O', 'D', 'E', 'C', 'N']);

/** What the agent's side sent is not a mux frame: the mux is ended. */
export class MuxProtocolError extends Error {}

export function encodeFrame(kind: FrameKind, connection: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.write(kind, 0, 'latin1');
  header.writeUInt32BE(connection, 1);
  header.writeUInt32BE(data.length, 5);
  return Buffer.concat([header, data]);
}

/** Frames of a connection's bytes, none larger than a frame may be. */
export function dataFrames(connection: number, data: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let at = 0; at < data.length; at += MAX_FRAME_DATA) {
    frames.push(encodeFrame('D', connection, data.subarray(at, at + MAX_FRAME_DATA)));
  }
  return frames;
}

/**
 * Reads frames from the bytes as they come; a frame split across chunks waits
 * for the rest (never more than one frame is held). Throws MuxProtocolError
 * on a kind it does not know or a length over MAX_FRAME_DATA.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): MuxFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: MuxFrame[] = [];
    while (this.pending.length >= FRAME_HEADER_BYTES) {
      const kind = String.fromCharCode(this.pending[0] ?? 0);
      if (!KINDS.has(kind)) {
        throw new MuxProtocolError(`a frame of unknown kind 0x${(this.pending[0] ?? 0).toString(16)}`);
      }
      const length = this.pending.readUInt32BE(5);
      if (length > MAX_FRAME_DATA) {
        throw new MuxProtocolError(`a frame of ${length} bytes (at most ${MAX_FRAME_DATA})`);
      }
      if (this.pending.length < FRAME_HEADER_BYTES + length) {
        break;
      }
      frames.push({ kind: kind as FrameKind, connection: this.pending.readUInt32BE(1), data: this.pending.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length) });
      this.pending = this.pending.subarray(FRAME_HEADER_BYTES + length);
    }
    return frames;
  }
}
