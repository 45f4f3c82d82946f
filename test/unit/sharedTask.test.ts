import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedTasks } from '../../src/core/base/sharedTask';
import { CancelledError } from '../../src/core/errors';

/** A task that runs until told to finish, or until its signal fires. */
function controllable() {
  let finish: (value: string) => void = () => undefined;
  let started = 0;
  let aborted = 0;
  const start = (signal: AbortSignal): Promise<string> => {
    started++;
    return new Promise((resolve, reject) => {
      finish = resolve;
      signal.addEventListener('abort', () => {
        aborted++;
        reject(new CancelledError('task'));
      });
    });
  };
  return { start, finish: (value: string) => finish(value), counts: () => ({ started, aborted }) };
}

describe('SharedTasks', () => {
  it('run one task for concurrent callers of a key', async () => {
    const tasks = new SharedTasks<string>();
    const task = controllable();
    const both = Promise.all([tasks.run({ key: 'k', what: 'w' }, task.start), tasks.run({ key: 'k', what: 'w' }, task.start)]);
    assert.equal(tasks.size, 1);
    task.finish('done');
    assert.deepEqual(await both, ['done', 'done']);
    assert.equal(tasks.size, 0);
    assert.deepEqual(task.counts(), { started: 1, aborted: 0 });
  });

  it('let a caller stop waiting at once, and cancel the task only when the last one does', async () => {
    const tasks = new SharedTasks<string>();
    const task = controllable();
    const [a, b] = [new AbortController(), new AbortController()];
    const first = tasks.run({ key: 'k', what: 'w', signal: a.signal }, task.start);
    const second = tasks.run({ key: 'k', what: 'w', signal: b.signal }, task.start);
    a.abort();
    await assert.rejects(first, CancelledError);
    assert.deepEqual(task.counts(), { started: 1, aborted: 0 }, 'the other still waits');
    b.abort();
    await assert.rejects(second, CancelledError);
    assert.deepEqual(task.counts(), { started: 1, aborted: 1 });
    // A caller after the cancel starts afresh rather than joining a task on its way out.
    const third = tasks.run({ key: 'k', what: 'w' }, task.start);
    task.finish('again');
    assert.equal(await third, 'again');
    assert.equal(task.counts().started, 2);
  });

  it('never cancel a task a caller without a signal waits for', async () => {
    const tasks = new SharedTasks<string>();
    const task = controllable();
    const abort = new AbortController();
    const pinned = tasks.run({ key: 'k', what: 'w' }, task.start);
    const cancellable = tasks.run({ key: 'k', what: 'w', signal: abort.signal }, task.start);
    abort.abort();
    await assert.rejects(cancellable, CancelledError);
    task.finish('kept');
    assert.equal(await pinned, 'kept');
    assert.equal(task.counts().aborted, 0);
  });
});
