import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { abortError, untilAborted, withTimeout } from '../../src/core/base/abort';
import { CancelledError, TimeoutError } from '../../src/core/errors';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('withTimeout', () => {
  it('fires after its time even when the garbage collector runs meanwhile (an install timeout must not be lost)', async () => {
    const signal = withTimeout(new AbortController().signal, 300) as AbortSignal;
    const fired = new Promise<number>((resolve) => signal.addEventListener('abort', () => resolve(Date.now()), { once: true }));
    const started = Date.now();
    const keepCollecting = setInterval(collectGarbage, 20);
    try {
      const outcome = await Promise.race([fired, new Promise<string>((resolve) => setTimeout(() => resolve('never fired'), 2_000))]);
      assert.equal(typeof outcome, 'number', 'the timeout fired');
      assert.ok((outcome as number) - started >= 290);
      assert.ok(abortError(signal, 'install') instanceof TimeoutError);
    } finally {
      clearInterval(keepCollecting);
    }
  });

  it("follows the caller's cancellation, and is the caller's signal without a time", () => {
    const caller = new AbortController();
    const signal = withTimeout(caller.signal, 60_000) as AbortSignal;
    caller.abort();
    assert.ok(signal.aborted);
    assert.ok(abortError(signal, 'install') instanceof CancelledError);
    assert.equal(withTimeout(caller.signal, undefined), caller.signal);
  });
});

describe('untilAborted', () => {
  it('is the work\'s outcome when nothing aborts', async () => {
    assert.equal(await untilAborted(Promise.resolve(7), new AbortController().signal, 'work'), 7);
    await assert.rejects(untilAborted(Promise.reject(new Error('failed')), new AbortController().signal, 'work'), /failed/);
  });

  it('stops waiting at the abort, while work shared with others goes on', async () => {
    const cancel = new AbortController();
    let finish = (): void => undefined;
    const shared = new Promise<string>((resolve) => (finish = () => resolve('done')));
    const waiting = untilAborted(shared, cancel.signal, 'the first clone');
    cancel.abort();
    await assert.rejects(waiting, CancelledError);
    finish();
    assert.equal(await shared, 'done');
    await assert.rejects(untilAborted(shared, cancel.signal, 'the first clone'), CancelledError, 'an aborted signal stops it at once');
  });
});
