import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { Engine } from '../../src/core/docker/engine';
import { ContainerEventsWatcher } from '../../src/core/docker/events';

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
    stream.write('{"status":"die"}\n');
    assert.equal(fired.length, 1, 'the first event fires without waiting');
    assert.ok((fired[0] as number) - started < 20);
    stream.write('{"status":"stop"}\n');
    stream.write('{"status":"destroy"}\n');
    assert.equal(fired.length, 1, 'the rest of the burst waits for the window');
    await sleep(150);
    assert.equal(fired.length, 2, 'the burst fires once more at the end of the window');
    await sleep(150);
    assert.equal(fired.length, 2, 'a quiet window fires nothing');
    stream.write('{"status":"start"}\n');
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
});
