import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { agentLabels, agentState, identityFromLabels, LABEL, parseStateFile } from '../../src/core/agent';
import { GITISO_VERSION } from '../../src/core/version';
import { SAMPLE_IDENTITY as identity } from '../support/sampleAgent';

describe('agent labels', () => {
  it('round-trip every field', () => {
    const labels = agentLabels(identity);
    assert.equal(labels[LABEL.version], GITISO_VERSION);
    assert.deepEqual(identityFromLabels(labels), { ...identity, gitisoVersion: GITISO_VERSION });
  });

  it('ignore containers that are not agents', () => {
    assert.equal(identityFromLabels({ 'other.label': 'x' }), undefined);
    assert.equal(identityFromLabels(undefined), undefined);
  });

  it('keep the version equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    assert.equal(GITISO_VERSION, pkg.version);
  });
});

describe('agent state', () => {
  const ready = { state: 'ready', baseBranch: 'main', baseCommit: 'abc', readyAt: '' } as const;

  it('follows the container and the state file', () => {
    assert.deepEqual(agentState({ running: true, status: 'running' }, undefined), { state: 'creating' });
    assert.deepEqual(agentState({ running: true, status: 'running' }, ready), { state: 'ready' });
    assert.deepEqual(agentState({ running: false, status: 'Exited (143) 1 minute ago' }, ready), { state: 'stopped', reason: 'Exited (143) 1 minute ago' });
    assert.deepEqual(agentState({ running: false, status: 'exited', oomKilled: true }, ready), { state: 'error', reason: 'killed by the engine: out of memory' });
    assert.deepEqual(agentState({ running: true, status: 'running' }, { ...ready, state: 'error', error: 'install failed' }), { state: 'error', reason: 'install failed' });
  });

  it('calls a container not started yet creating while its creator lives, never stopped', () => {
    assert.deepEqual(agentState({ running: false, status: 'created', neverStarted: true, creatorGone: false }, undefined), { state: 'creating' });
    assert.equal(agentState({ running: false, status: 'created', neverStarted: true, creatorGone: true }, undefined).state, 'error');
    // One that ran and stopped is stopped, whoever made it.
    assert.equal(agentState({ running: false, status: 'exited', creatorGone: false }, undefined).state, 'stopped');
    assert.equal(agentState({ running: false, status: 'created', neverStarted: true, creatorGone: false }, ready).state, 'stopped');
  });

  it('reads a torn state file as not ready', () => {
    assert.equal(parseStateFile('{"state":"rea'), undefined);
    assert.equal(parseStateFile(''), undefined);
    assert.deepEqual(parseStateFile(JSON.stringify(ready)), ready);
  });

  it('reads a state file the agent rewrote as not ready, unless it is exactly what gitiso writes', () => {
    const read = (fields: Record<string, unknown>): unknown => parseStateFile(JSON.stringify({ ...ready, ...fields }));
    assert.equal(read({ baseBranch: '--upload-pack=touch /tmp/x' }), undefined);
    assert.equal(read({ baseBranch: 'a..b' }), undefined);
    assert.equal(read({ baseBranch: 7 }), undefined);
    assert.equal(read({ baseCommit: '^HEAD' }), undefined);
    assert.equal(read({ error: { nested: true } }), undefined);
    assert.equal(parseStateFile('[1, 2]'), undefined);
    assert.equal(parseStateFile('null'), undefined);
    // Only the known fields are kept; texts shown to the user lose terminal escapes and are cut short.
    assert.deepEqual(read({ pad: 'z'.repeat(1000), state: 'error', error: `\u001b]0;owned\u0007${'e'.repeat(5000)}` }), { ...ready, state: 'error', error: ` ]0;owned ${'e'.repeat(1990)}` });
  });
});
