import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatResults, runCreateBench } from '../../bench/createBench';
import { formatFirstAgentResults, runFirstAgentBench } from '../../bench/firstAgentBench';
import { formatMemoryResults, runMemoryBench } from '../../bench/memoryBench';
import { formatRoundTripResults, runRoundTripBench } from '../../bench/roundTripBench';
import { formatStatusResults, runStatusBench } from '../../bench/statusBench';
import { benchRepoFromEnv } from '../../bench/benchRepo';
import { seedBareRepo } from '../support/gitServer';
import { ensureNetwork, makeTempDir, removeDir, testEngine, testImage } from '../support/testEnv';

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

  it('times the first agent of a new repository, cold, by step, against a naive clone', async () => {
    const engine = await testEngine();
    await ensureNetwork(engine);
    // BENCH_REPO may name a repository on this machine: it is copied into the bench's server and served from there.
    const local = makeTempDir('bench-local');
    try {
      seedBareRepo(join(local, 'mine.git'), { 'src/a.txt': 'a\n' });
      const repos = [{ name: 'smoke-first', shape: { files: 30, commits: 3 } }, benchRepoFromEnv(join(local, 'mine.git'))];
      const lines: string[] = [];
      const results = await runFirstAgentBench({ engine, image: testImage(), repos, repetitions: 1, log: (line) => lines.push(line) });
      assert.deepEqual(results.map((r) => r.repo), ['smoke-first', 'BENCH_REPO']);
      assert.ok(lines.some((line) => /^BENCH_REPO: copied mine\.git \(2 commits\)/.test(line)), lines.join('\n'));
      for (const result of results) {
        assert.ok(result.gitisoMs.median > 0 && result.naiveMs.median > 0, JSON.stringify(result));
        const steps = result.steps.map((s) => s.step);
        for (const step of ['pool clone', 'agent create (alongside)', 'container start (alongside)', 'transfer', 'checkout', 'agent start', 'other']) {
          assert.ok(steps.includes(step), `no '${step}' in ${steps.join(', ')}`);
        }
      }
      const table = formatFirstAgentResults(results);
      assert.match(table, /\| ratio \(medians\) \| \d+\.\d\d× \|/);
      console.log(table);
    } finally {
      removeDir(local);
    }
  });

  it('brings a one-file and a many-file change home and fetches the same from a plain remote', async () => {
    const engine = await testEngine();
    await ensureNetwork(engine);
    const results = await runRoundTripBench({ engine, image: testImage(), repos: [{ name: 'smoke-rt', shape: { files: 30, commits: 3 } }], repetitions: 2, manyFiles: 20 });
    assert.deepEqual(results.map((r) => r.change), ['one commit, one file', 'one commit, 20 files']);
    for (const r of results) {
      assert.ok(r.firstMs > 0 && r.bringHomeMs.median > 0 && r.fetchMs.median > 0, JSON.stringify(r));
      assert.ok(r.bytes > 0, `${r.change}: the bundle was empty`);
    }
    const table = formatRoundTripResults(results);
    assert.match(table, /\| smoke-rt \| one commit, 20 files \| \d+ ms \/ \d+ ms \|/);
    console.log(table);
  });

  it('times git status inside the trees and as gitiso runs it', async () => {
    const engine = await testEngine();
    await ensureNetwork(engine);
    const results = await runStatusBench({ engine, image: testImage(), shape: { files: 30, commits: 3 }, runs: 3, oneVariant: true });
    assert.deepEqual(results.inside.map((r) => r.way), ['host', 'naive', 'snapshot', 'before']);
    assert.deepEqual(results.callers.map((r) => r.way), ['channel', 'exec', 'naive', 'channel-true', 'exec-true']);
    for (const row of [...results.inside, ...results.callers]) {
      assert.ok(row.firstMs > 0 && row.laterMs.median > 0, JSON.stringify(row));
    }
    const table = formatStatusResults(results);
    assert.match(table, /\| snapshot image as built \| [\d.]+ ms \|/);
    console.log(table);
  });

  it("measures gitiso's memory with 0 and 2 idle agents, each agent's, and an idle run", async () => {
    const engine = await testEngine();
    await ensureNetwork(engine);
    const results = await runMemoryBench({ engine, image: testImage(), steps: [0, 2], idleAgents: 2, idleSeconds: 2, samples: 1, settleSeconds: 0 });
    assert.equal(results.steps.length, 2);
    const [, two] = results.steps;
    assert.ok(two && two.agents >= 2 && two.rssBytes > 0 && (two.containerBytes?.median ?? 0) > 0, JSON.stringify(two));
    assert.equal(results.idle.readings.length, 11);
    const table = formatMemoryResults(results);
    assert.match(table, /\| 2 \| [\d.]+ MB \|/);
    console.log(table);
  });
});
