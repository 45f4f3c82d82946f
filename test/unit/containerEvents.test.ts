import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { Engine } from '../../src/core/docker/engine';
import { type ContainerChange, ContainerEventsWatcher, parseEvent } from '../../src/core/docker/events';

/** An engine whose events stream the test writes to. */
function eventsEngine(): { engine: Engine; stream: PassThrough; asked: string[][] } {
  const stream = new PassThrough();
  const asked: string[][] = [];
  const engine = {
    containerEvents: async (_label: string, events: readonly string[]) => {
      asked.push([...events]);
      return stream;
    },
  } as unknown as Engine;
  return { engine, stream, asked };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ContainerEventsWatcher', () => {
  it('fires at once for an event after a quiet spell, then once at the end of a burst', async () => {
    const { engine, stream } = eventsEngine();
    const watcher = new ContainerEventsWatcher(engine, { label: 'gitiso.agent', debounceMs: 100 });
    const fired: number[] = [];
    watcher.onDidChange(() => fired.push(performance.now()));
    watcher.start();
    await sleep(150); // the connect fires once (events may have been missed before it)
    fired.length = 0;
    const started = performance.now();
    stream.write('{"id":"c1","status":"die"}\n');
    assert.equal(fired.length, 1, 'the first event fires without waiting');
    assert.ok((fired[0] as number) - started < 20);
    stream.write('{"id":"c1","status":"stop"}\n');
    stream.write('{"id":"c1","status":"destroy"}\n');
    assert.equal(fired.length, 1, 'the rest of the burst waits for the window');
    await sleep(150);
    assert.equal(fired.length, 2, 'the burst fires once more at the end of the window');
    await sleep(150);
    assert.equal(fired.length, 2, 'a quiet window fires nothing');
    stream.write('{"id":"c2","status":"start"}\n');
    assert.equal(fired.length, 3);
    watcher.dispose();
  });

  it('does not follow kill: only what it causes changes a row', async () => {
    const { engine, asked } = eventsEngine();
    const watcher = new ContainerEventsWatcher(engine, { label: 'gitiso.agent' });
    watcher.start();
    await sleep(10);
    assert.ok(asked[0]?.includes('die') && !asked[0].includes('kill'), `asked for ${asked[0]?.join(', ')}`);
    watcher.dispose();
  });

  it('says which containers changed, a burst\'s events together, and "read everything" on a connect or a line it cannot read', async () => {
    const { engine, stream } = eventsEngine();
    const watcher = new ContainerEventsWatcher(engine, { label: 'gitiso.agent', debounceMs: 50 });
    const fired: ContainerChange[] = [];
    watcher.onDidChange((change) => fired.push(change));
    watcher.start();
    await sleep(10);
    assert.deepEqual(fired, [undefined], 'a connect may follow missed events');
    fired.length = 0;
    // Real lines carry the actor and the action; a line may come in two chunks.
    stream.write('{"Type":"container","Action":"die","Actor":{"ID":"aaa","Attributes":{"gitiso.agent":"x"}},"status":"die","id":"aaa"}\n{"Action":"st');
    stream.write('op","Actor":{"ID":"aaa"}}\n{"Action":"start","Actor":{"ID":"bbb"}}\n');
    await sleep(80);
    assert.deepEqual(fired, [[{ containerId: 'aaa', action: 'die' }], [{ containerId: 'aaa', action: 'stop' }, { containerId: 'bbb', action: 'start' }]]);
    fired.length = 0;
    await sleep(80);
    stream.write('not an event\n');
    assert.deepEqual(fired, [undefined], 'a line that is no event: everything is read again');
    watcher.dispose();
  });

  it('reads an event\'s container and action, and nothing from what is not one', () => {
    assert.deepEqual(parseEvent('{"Action":"destroy","Actor":{"ID":"abc"}}'), { containerId: 'abc', action: 'destroy' });
    assert.deepEqual(parseEvent('{"status":"die","id":"abc"}'), { containerId: 'abc', action: 'die' });
    assert.equal(parseEvent('{"Action":"die"}'), undefined);
    assert.equal(parseEvent('{"Action":7,"Actor":{"ID":"abc"}}'), undefined);
    assert.equal(parseEvent('[1,2'), undefined);
    assert.equal(parseEvent(`{"Action":"die","Actor":{"ID":"${'a'.repeat(70_000)}"}}`), undefined);
  });
});
