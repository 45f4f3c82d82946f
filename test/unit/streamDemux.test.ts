import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamDemux } from '../../src/core/docker/streamDemux';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text, 'latin1');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Feeds `bytes` cut at the given points; returns what each stream got. */
function demux(bytes: Buffer, cuts: number[] = []): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const demuxer = new StreamDemux(
    (chunk) => out.push(Buffer.from(chunk)),
    (chunk) => err.push(Buffer.from(chunk)),
  );
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    demuxer.push(bytes.subarray(from, cut));
    from = cut;
  }
  return { stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1') };
}

describe('stream demux', () => {
  const stream = Buffer.concat([frame(2, '\0n:pid:7\n'), frame(1, 'out\0put\n'), frame(1, ''), frame(1, 'more'), frame(2, 'err'), frame(1, '\0n:end:0\n'), frame(2, '\0n:end:0\n')]);
  const expected = { stdout: 'out\0put\nmore\0n:end:0\n', stderr: '\0n:pid:7\nerr\0n:end:0\n' };

  it('splits frames into their streams, byte for byte, wherever the reads cut them', () => {
    assert.deepEqual(demux(stream), expected);
    for (let cut = 0; cut <= stream.length; cut++) {
      assert.deepEqual(demux(stream, [cut]), expected, `cut at ${cut}`);
    }
    for (let cut = 1; cut + 3 <= stream.length; cut++) {
      assert.deepEqual(demux(stream, [cut, cut + 1, cut + 3]), expected, `cuts at ${cut}, ${cut + 1}, ${cut + 3}`);
    }
    // One byte per read.
    assert.deepEqual(
      demux(
        stream,
        Array.from({ length: stream.length }, (_, k) => k),
      ),
      expected,
    );
  });

  it('passes a payload on as it arrives, not when its frame is complete', () => {
    const got: string[] = [];
    const demuxer = new StreamDemux(
      (chunk) => got.push(`out:${chunk.toString()}`),
      (chunk) => got.push(`err:${chunk.toString()}`),
    );
    const bytes = frame(1, 'abcdef');
    demuxer.push(bytes.subarray(0, 11));
    assert.deepEqual(got, ['out:abc']);
    demuxer.push(bytes.subarray(11));
    assert.deepEqual(got, ['out:abc', 'out:def']);
  });

  it('treats a header that names no stream as the start of raw output, as dockerode did', () => {
    const raw = Buffer.from('plain text, no headers');
    assert.deepEqual(demux(Buffer.concat([frame(1, 'a'), raw])), { stdout: `a${raw.toString()}`, stderr: '' });
  });
});
