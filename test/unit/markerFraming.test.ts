import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MarkerFraming, partialPrefixAt } from '../../src/core/docker/markerFraming';

const PREFIX = Buffer.from('\0c0ffee:');

/** Feeds `text` cut at the given points; returns the output and the markers seen. */
function frame(text: string, cuts: number[] = []): { output: string; markers: string[] } {
  const bytes = Buffer.from(text, 'latin1');
  const output: Buffer[] = [];
  const markers: string[] = [];
  const framing = new MarkerFraming(PREFIX, { output: (chunk) => output.push(Buffer.from(chunk)), marker: (kind, value) => markers.push(`${kind}:${value}`) });
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    framing.push(bytes.subarray(from, cut));
    from = cut;
  }
  return { output: Buffer.concat(output).toString('latin1'), markers };
}

describe('exec channel framing', () => {
  it('finds the markers, wherever the stream is cut', () => {
    const text = 'out\0put\n\0c0ffee:pid:42\nmore\0c0ffee:end:3\n';
    for (let cut = 0; cut <= text.length; cut++) {
      assert.deepEqual(frame(text, [cut]), { output: 'out\0put\nmore', markers: ['pid:42', 'end:3'] }, `cut at ${cut}`);
    }
  });

  it('passes everything that is not exactly a marker through, byte for byte, wherever the stream is cut', () => {
    const text = ['\0', '\0c0ffe', '\0c0ffee', '\0c0ffee:', '\0c0ffee:end:x\n', '\0c0ffee:end:1 \n', '\0c0ffee:fin:1\n', '\0other:end:0\n', `\0c0ffee:end:${'9'.repeat(40)}\n`, '\0c0ffee:pid:1'].join('');
    for (let cut = 0; cut <= text.length; cut++) {
      assert.deepEqual(frame(text, [cut]).markers, [], `cut at ${cut}`);
    }
    // Held back only while it may still become a marker: all of it is out by the time the stream ends with a real one.
    for (let cut = 0; cut <= text.length; cut++) {
      assert.deepEqual(frame(`${text}\0c0ffee:end:0\n`, [cut]), { output: text, markers: ['end:0'] }, `cut at ${cut}`);
    }
  });

  it('holds back only what may begin a marker', () => {
    assert.equal(partialPrefixAt(Buffer.from('abc\0c0f'), PREFIX), 3);
    assert.equal(partialPrefixAt(Buffer.from('abc\0x'), PREFIX), 5);
    assert.equal(partialPrefixAt(Buffer.from('abc'), PREFIX), 3);
    assert.equal(frame('plain\0x').output, 'plain\0x');
  });
});
