import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import type { ExecSession, ExecSpec } from '../../src/core/docker/engine';
import { openExecStream, type ExecStreamEngine } from '../../src/core/docker/execStream';

function frame(stream: 1 | 2, payload: string | Buffer): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** An engine whose one exec is a stream the test drives: what the relay wrote, and the kills asked for. */
function fakeEngine(): { engine: ExecStreamEngine; attached: Duplex; written: Buffer[]; kills: string[][]; specs: ExecSpec[]; ended: () => boolean } {
  const written: Buffer[] = [];
  const kills: string[][] = [];
  const specs: ExecSpec[] = [];
  let stdinEnded = false;
  const attached = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
    final(callback) {
      stdinEnded = true;
      callback();
    },
  });
  const engine: ExecStreamEngine = {
    openExec: async (_id: string, spec: ExecSpec): Promise<ExecSession> => {
      specs.push(spec);
      return { stream: attached, status: async () => ({ running: true, exitCode: null }), resize: async () => undefined };
    },
    spawnDetached: async (_id: string, argv: readonly string[]) => {
      kills.push([...argv]);
    },
  };
  return { engine, attached, written, kills, specs, ended: () => stdinEnded };
}

const tick = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('exec stream: a program in a container as one byte stream', () => {
  it('runs the argument array under the pid preamble with stdin, writes to stdin, reads stdout only', async () => {
    const fake = fakeEngine();
    const stream = openExecStream(fake.engine, { containerId: 'c', argv: ['socat', '-', 'TCP:127.0.0.1:3000'], halfClose: true });
    const read: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => read.push(chunk));
    stream.write('GET /');
    await tick();
    fake.attached.push(Buffer.concat([frame(2, '42\n'), frame(1, 'HTTP/1.1 200'), frame(2, 'noise'), frame(1, ' OK')]));
    await tick();
    assert.equal(Buffer.concat(read).toString(), 'HTTP/1.1 200 OK');
    assert.equal(Buffer.concat(fake.written).toString(), 'GET /');
    assert.deepEqual(fake.specs[0]?.argv.slice(0, 2), ['sh', '-c']);
    assert.deepEqual(fake.specs[0]?.argv.slice(-3), ['socat', '-', 'TCP:127.0.0.1:3000']);
    assert.equal(fake.specs[0]?.stdin, true);
    assert.notEqual(fake.specs[0]?.tty, true);
    stream.destroy();
  });

  it('passes a half-close on to stdin when the program takes one, and ends when the program does, killing nothing', async () => {
    const fake = fakeEngine();
    const stream = openExecStream(fake.engine, { containerId: 'c', argv: ['python3'], halfClose: true });
    stream.resume();
    fake.attached.push(frame(2, '42\n'));
    stream.end();
    await tick();
    assert.equal(fake.ended(), true, 'stdin was not closed');
    assert.equal(stream.destroyed, false, 'a half-close ended the stream');
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    fake.attached.push(null);
    await closed;
    await tick();
    assert.deepEqual(fake.kills, []);
  });

  it('ends a program that takes no half-close when the writing ends: its process group is killed, by the pid its preamble gave', async () => {
    const fake = fakeEngine();
    const stream = openExecStream(fake.engine, { containerId: 'c', argv: ['bash'], halfClose: false });
    stream.resume();
    fake.attached.push(frame(2, '4'));
    fake.attached.push(frame(2, '2\n'));
    await tick();
    stream.end();
    await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    await tick();
    assert.equal(fake.kills.length, 1);
    assert.equal(fake.kills[0]?.at(-1), '42');
    assert.match(fake.kills[0]?.[2] ?? '', /kill -TERM "-\$1"/);
  });

  it('the attacker\'s case: a stderr that is no pid line (too long, not digits) kills nothing and is not kept', async () => {
    for (const stderr of ['1; rm -rf /\n', '9'.repeat(100)]) {
      const fake = fakeEngine();
      const stream = openExecStream(fake.engine, { containerId: 'c', argv: ['x'], halfClose: false });
      stream.resume();
      fake.attached.push(frame(2, stderr));
      fake.attached.push(frame(2, 'x'.repeat(1_000_000)));
      await tick();
      stream.destroy();
      await tick(50);
      assert.deepEqual(fake.kills, [], JSON.stringify(stderr));
    }
  });

  it('holds the program back while the reader does not read (backpressure)', async () => {
    const fake = fakeEngine();
    const stream = openExecStream(fake.engine, { containerId: 'c', argv: ['x'], halfClose: true });
    await tick();
    fake.attached.push(frame(1, Buffer.alloc(1024 * 1024)));
    await tick();
    assert.equal(fake.attached.isPaused(), true, 'the attach kept flowing into a stream nobody read');
    stream.resume();
    await tick();
    assert.equal(fake.attached.isPaused(), false);
    stream.destroy();
  });
});
