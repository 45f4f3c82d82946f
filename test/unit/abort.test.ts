import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getEventListeners } from 'node:events';
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

  it("leaves a long-lived caller's signal once its time is up (a sampler's signal gained a listener per sample, for good)", async () => {
    const sampler = new AbortController();
    const signals = Array.from({ length: 50 }, () => withTimeout(sampler.signal, 20) as AbortSignal);
    assert.equal(getEventListeners(sampler.signal, 'abort').length, 50, 'each pending one listens');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(signals.every((signal) => signal.aborted && abortError(signal, 'sample') instanceof TimeoutError));
    assert.equal(getEventListeners(sampler.signal, 'abort').length, 0);
    // One still pending follows the caller's abort all the same.
    const pending = withTimeout(sampler.signal, 60_000) as AbortSignal;
    sampler.abort();
    assert.ok(pending.aborted && abortError(pending, 'sample') instanceof CancelledError);
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
