import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { putHostFiles, readFile } from '../../src/core/docker/archive';

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

describe('putting host files into a container', () => {
  /** An engine that reads the archive it is given: entry names and contents, in order. */
  function engineReceiving(): { engine: { putArchive: (id: string, body: NodeJS.ReadableStream) => Promise<void> }; entries: { name: string; content: string }[] } {
    const entries: { name: string; content: string }[] = [];
    const engine = {
      putArchive: async (_id: string, body: NodeJS.ReadableStream) => {
        const extract = tar.extract();
        const done = new Promise<void>((resolve, reject) => {
          extract.on('entry', (header, stream, next) => {
            const chunks: Buffer[] = [];
            stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
            stream.on('end', () => {
              entries.push({ name: header.name, content: Buffer.concat(chunks).toString() });
              next();
            });
          });
          extract.on('finish', resolve);
          extract.on('error', reject);
        });
        body.pipe(extract);
        await done;
      },
    };
    return { engine, entries };
  }

  it('puts gitiso\'s notes after the host files and before the marker, so that the marker says they are whole', async () => {
    const { engine, entries } = engineReceiving();
    const size = statSync(__filename).size;
    await putHostFiles(engine as never, 'c1', { dir: '/tmp/objects', files: [{ hostPath: __filename, name: 'pack/pack-1.pack', size }], notes: [{ name: '.base', content: 'main\nc1\n{}\n' }], completeMarker: '.complete' });
    const files = entries.filter((e) => !e.name.endsWith('/'));
    assert.deepEqual(files.map((e) => e.name), ['tmp/objects/pack/pack-1.pack', 'tmp/objects/.base', 'tmp/objects/.complete']);
    assert.equal(files[1]?.content, 'main\nc1\n{}\n');
  });

  it('refuses a note whose name leaves its folder', async () => {
    const { engine } = engineReceiving();
    await assert.rejects(putHostFiles(engine as never, 'c1', { dir: '/tmp/objects', files: [], notes: [{ name: '../../etc/gitiso/state.json', content: '{}' }] }), /not a plain relative name/);
  });
});
