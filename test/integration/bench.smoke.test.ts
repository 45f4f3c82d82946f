import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatResults, runCreateBench } from '../../bench/createBench';
import { ensureNetwork, testEngine, testImage } from '../support/testEnv';

// A tiny run of `npm run bench`, so the benchmark cannot rot. Its figures are printed, never asserted.
describe('benchmark (smoke run)', () => {
  it('measures every way on a tiny repository and prints the table', async () => {
    const engine = await testEngine();
    await ensureNetwork(engine);
    const results = await runCreateBench({ engine, image: testImage(), repos: [{ name: 'smoke', shape: { files: 30, commits: 3 } }], repetitions: 1, concurrency: [1, 2], gitStatusRuns: 2 });
    const [result] = results;
    assert.ok(result);
    assert.deepEqual(result.methods.map((m) => m.method), ['naive', 'snapshot', 'pool', 'shallow', 'worktree', 'devcontainer', 'floor']);
    for (const method of result.methods) {
      assert.ok(Number.isFinite(method.readyMs.median) && method.readyMs.median > 0, `${method.method}: ${method.readyMs.median}`);
    }
    assert.deepEqual(result.concurrent.map((c) => c.n), [1, 2]);
    const table = formatResults(results);
    assert.match(table, /\(b\) gitiso snapshot \| \d+ ms/);
    console.log(table);
  });
});
