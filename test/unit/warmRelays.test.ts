import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { PortForwarder } from '../../src/core/ports/portForwarder';
import { GO_BYTE } from '../../src/core/ports/relayPrograms';
import { RelayPool, REFILL_DELAY_MS } from '../../src/core/ports/warmRelays';

/** A relay the test drives: what the host wrote to it, and whether it was destroyed. */
interface FakeRelay {
  readonly stream: Duplex;
  readonly written: Buffer[];
}

/** A pool over fake relays, numbered in the order they were started. */
function poolOfFakes(size?: number): { pool: RelayPool; started: FakeRelay[] } {
  const started: FakeRelay[] = [];
  const start = (): Duplex => {
    const written: Buffer[] = [];
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk);
        callback();
      },
    });
    started.push({ stream, written });
    return stream;
  };
  return { pool: new RelayPool(start, size), started };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const refilled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, REFILL_DELAY_MS + 20));

describe('warm relays: spares started ahead of connections', () => {
  it('starts its spares at once, hands out the oldest with the go byte first, and starts a replacement a moment later', async () => {
    const { pool, started } = poolOfFakes(2);
    assert.equal(started.length, 2);
    const first = pool.take();
    assert.equal(first, started[0]?.stream);
    assert.deepEqual(started[0]?.written, [GO_BYTE]);
    assert.deepEqual(started[1]?.written, [], 'a spare not taken was told to connect');
    assert.equal(started.length, 2, 'the replacement started with the connection it replaces');
    assert.equal(pool.take(), started[1]?.stream);
    assert.equal(pool.take(), started[2]?.stream, 'no spare left: a fresh one');
    await refilled();
    assert.equal(started.length, 5);
    assert.equal(pool.spareCount, 2);
    pool.close();
  });

  it('drops a spare that ends unused and does not replace it until a connection asks (no restart loop)', async () => {
    const { pool, started } = poolOfFakes(2);
    started[0]?.stream.push(null);
    started[1]?.stream.destroy(new Error('the container stopped'));
    await tick();
    await tick();
    assert.equal(pool.spareCount, 0);
    assert.equal(started.length, 2, 'a dropped spare was replaced on its own');
    const taken = pool.take();
    assert.equal(taken, started[2]?.stream, 'a connection with no spare left got a dead one');
    assert.deepEqual(started[2]?.written, [GO_BYTE]);
    await refilled();
    assert.equal(started.length, 5, 'the connection did not start the spares again');
    assert.equal(pool.spareCount, 2);
    pool.close();
  });

  it('the attacker\'s case: a spare that prints before its go byte is dropped, and nothing of it reaches a connection', async () => {
    const { pool, started } = poolOfFakes(1);
    const hostile = started[0];
    assert.ok(hostile);
    hostile.stream.push(Buffer.alloc(65_536, 'G'));
    await tick();
    assert.ok(hostile.stream.destroyed);
    assert.equal(pool.spareCount, 0);
    assert.notEqual(pool.take(), hostile.stream);
    pool.close();
  });

  it('closing ends every spare, and starts none after', async () => {
    const { pool, started } = poolOfFakes(2);
    pool.close();
    assert.ok(started.every((relay) => relay.stream.destroyed));
    assert.equal(pool.spareCount, 0);
    pool.take();
    await refilled();
    assert.equal(started.length, 3);
    assert.equal(pool.spareCount, 0);

    const taken = poolOfFakes(2);
    taken.pool.take();
    taken.pool.close();
    await refilled();
    assert.equal(taken.started.length, 2, 'a replacement due when the forward closed was started');
  });

  it('a taken spare carries a connection both ways behind a forwarder, the go byte before the client\'s bytes', async () => {
    const { pool, started } = poolOfFakes(1);
    const forwarder = await PortForwarder.open({ kind: 'exec', describe: 'fake', open: () => pool.take(), close: () => pool.close() });
    try {
      const client = connect({ host: '127.0.0.1', port: forwarder.hostPort });
      const answer = new Promise<string>((resolve) => client.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      client.write('hello');
      const relay = started[0];
      assert.ok(relay);
      while (Buffer.concat(relay.written).length < GO_BYTE.length + 5) {
        await tick();
      }
      assert.equal(Buffer.concat(relay.written).toString(), `${GO_BYTE.toString()}hello`);
      relay.stream.push('world');
      assert.equal(await answer, 'world');
      client.destroy();
    } finally {
      await forwarder.close();
      pool.close();
    }
  });
});
