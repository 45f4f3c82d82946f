import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { readFile } from '../../src/core/docker/archive';

const MiB = 1024 * 1024;

/** readFile with its bound (typed so the test also compiles against a readFile without it). */
const read = readFile as (engine: unknown, containerId: string, path: string, options?: { maxBytes?: number }) => Promise<Buffer | undefined>;

async function tarOf(entries: { name: string; content?: Buffer; type?: 'file' | 'directory' }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { name, content, type = 'file' } of entries) {
    if (type === 'file') {
      pack.entry({ name, type }, content ?? Buffer.alloc(0));
    } else {
      pack.entry({ name, type });
    }
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** An engine whose archive of any path is `archive`, sent in 64 KiB chunks; counts what was sent. */
function engineSending(archive: Buffer): { engine: unknown; sent: () => number } {
  let sent = 0;
  const engine = {
    getArchive: async () =>
      new Readable({
        read() {
          const chunk = archive.subarray(sent, sent + 64 * 1024);
          sent += chunk.length;
          this.push(chunk.length > 0 ? chunk : null);
        },
      }),
  };
  return { engine, sent: () => sent };
}

describe('reading a file from a container', () => {
  it('reads a small file', async () => {
    const { engine } = engineSending(await tarOf([{ name: 'state.json', content: Buffer.from('{"a":1}') }]));
    assert.equal((await read(engine, 'c', '/etc/gitiso/state.json', { maxBytes: 64 * 1024 }))?.toString(), '{"a":1}');
  });

  it('refuses a file over the bound without reading it', async () => {
    const { engine, sent } = engineSending(await tarOf([{ name: 'state.json', content: Buffer.alloc(16 * MiB, 'z') }]));
    await assert.rejects(read(engine, 'c', '/etc/gitiso/state.json', { maxBytes: 64 * 1024 }), (error: Error) => error.name === 'TooLargeError' && /larger than 65536 bytes/.test(error.message));
    assert.ok(sent() < 2 * MiB, `${sent()} bytes were read of a 16 MiB file`);
  });

  it('reads a folder in the file\'s place as no file, without reading what it holds', async () => {
    const entries = [{ name: 'state.json/', type: 'directory' as const }, ...Array.from({ length: 64 }, (_, i) => ({ name: `state.json/f${i}`, content: Buffer.alloc(MiB) }))];
    const { engine, sent } = engineSending(await tarOf(entries));
    assert.equal(await read(engine, 'c', '/etc/gitiso/state.json', { maxBytes: 64 * 1024 }), undefined);
    assert.ok(sent() < 8 * MiB, `${sent()} bytes were read of a 64 MiB folder`);
  });
});
