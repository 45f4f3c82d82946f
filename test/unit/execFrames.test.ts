import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameReader, type FrameStream } from '../../src/core/docker/execFrames';

function frame(stream: 1 | 2, payload: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(Buffer.byteLength(payload), 4);
  return Buffer.concat([header, Buffer.from(payload)]);
}

function read(chunks: readonly Buffer[]): { stdout: string; stderr: string; pieces: number } {
  const out: Record<FrameStream, Buffer[]> = { stdout: [], stderr: [] };
  const reader = new FrameReader((stream, chunk) => out[stream].push(Buffer.from(chunk)));
  chunks.forEach((chunk) => reader.push(chunk));
  return { stdout: Buffer.concat(out.stdout).toString(), stderr: Buffer.concat(out.stderr).toString(), pieces: out.stdout.length };
}

describe('exec frames: stdout and stderr of one attach, split as they come', () => {
  const wire = Buffer.concat([frame(1, 'hello '), frame(2, '42\n'), frame(1, ''), frame(1, 'world')]);

  it('splits whole frames', () => {
    assert.deepEqual({ ...read([wire]), pieces: undefined }, { stdout: 'hello world', stderr: '42\n', pieces: undefined });
  });

  it('gives the same bytes however the connection cuts them, a byte at a time included', () => {
    for (let size = 1; size <= wire.length; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < wire.length; i += size) {
        chunks.push(wire.subarray(i, i + size));
      }
      const { stdout, stderr } = read(chunks);
      assert.equal(stdout, 'hello world', `chunks of ${size}`);
      assert.equal(stderr, '42\n', `chunks of ${size}`);
    }
  });

  it('hands a payload on as it arrives, not once its frame is whole', () => {
    const big = frame(1, 'x'.repeat(1000));
    assert.equal(read([big.subarray(0, 500), big.subarray(500)]).pieces, 2);
  });
});
