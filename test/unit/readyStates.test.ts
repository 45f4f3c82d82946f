import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readyStateFile } from '../../src/core/agent';
import { MAX_STATE_FILE_BYTES, ReadyStates } from '../../src/core/readyStates';
import { makeTempDir, removeDir } from '../support/testEnv';

/** An engine whose containers' state files are `files`, counting the reads. */
function stateEngine(files: Record<string, string>) {
  const engine = {
    reads: 0,
    async readFile(containerId: string): Promise<Buffer | undefined> {
      engine.reads++;
      const text = files[containerId];
      return text === undefined ? undefined : Buffer.from(text);
    },
  };
  return engine;
}

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const ready = JSON.stringify(readyStateFile({ branch: 'main', commit: 'c'.repeat(40) }));

describe('ReadyStates', () => {
  const dir = makeTempDir('ready-states');
  after(() => removeDir(dir));

  it('reads a ready state once, and a later process (another window, the CLI) reads none', async () => {
    const folder = join(dir, 'later');
    const engine = stateEngine({ [A]: ready });
    assert.equal((await new ReadyStates(engine, undefined, folder).read(A))?.state, 'ready');
    assert.equal(engine.reads, 1);
    const next = new ReadyStates(engine, undefined, folder);
    assert.equal((await next.read(A))?.baseBranch, 'main');
    assert.equal(engine.reads, 1, 'the saved state answered');
  });

  it('keeps nothing of an agent not ready yet, and forgets what it is told to', async () => {
    const folder = join(dir, 'forget');
    const files: Record<string, string> = {};
    const engine = stateEngine(files);
    const states = new ReadyStates(engine, undefined, folder);
    assert.equal(await states.read(A), undefined);
    files[A] = ready;
    assert.equal((await states.read(A))?.state, 'ready', 'read again until ready');
    states.forget(A);
    assert.deepEqual(readdirSync(folder), []);
    assert.equal((await new ReadyStates(engine, undefined, folder).read(A))?.state, 'ready');
    assert.equal(engine.reads, 3);
  });

  it('ignores a saved file it cannot trust (too large, not a state, not a container id) and drops those of containers gone', async () => {
    const folder = join(dir, 'odd');
    const engine = stateEngine({ [A]: ready, [B]: ready, '../escape': ready });
    const states = new ReadyStates(engine, undefined, folder);
    states.remember(A, readyStateFile({ branch: 'main', commit: 'c'.repeat(40) }));
    states.remember(B, readyStateFile({ branch: 'main', commit: 'c'.repeat(40) }));
    await states.read('../escape');
    assert.deepEqual(readdirSync(folder).sort(), [`${A}.json`, `${B}.json`]);
    writeFileSync(join(folder, `${A}.json`), ' '.repeat(MAX_STATE_FILE_BYTES + 1));
    writeFileSync(join(folder, `${B}.json`), '{"state":"creating"}');
    const fresh = new ReadyStates(engine, undefined, folder);
    engine.reads = 0;
    await fresh.read(A);
    await fresh.read(B);
    assert.equal(engine.reads, 2, 'both read from their containers again');
    fresh.keepOnly([A]);
    assert.deepEqual(readdirSync(folder), [`${A}.json`]);
  });
});
