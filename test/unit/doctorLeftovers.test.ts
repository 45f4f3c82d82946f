import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentState, INTERRUPTED_REASON, LABEL } from '../../src/core/agent';
import { agentLeftover, builderLeftover, mayBeHalfMade, poolEntryLeftover, TEMP_STALE_MS, tempLeftover } from '../../src/core/doctor/leftovers';
import { isStaleLock } from '../../src/core/git/poolLock';
import { isAbandoned, OWNER_LABEL, parseOwner, type Liveness } from '../../src/core/ownership';
import { BUILDER_DEADLINE_LABEL, watchdogCommand } from '../../src/core/snapshot/builderLifetime';
import { parseTempName } from '../../src/core/tempDir';

const NOW = Date.parse('2025-01-01T12:00:00Z');
/** This host; pid 100 runs, every other pid has ended. */
const world: Liveness = { host: 'here', now: NOW, isAlive: (pid) => pid === 100 };
const iso = (offsetMs: number): string => new Date(NOW + offsetMs).toISOString();

function builder(labels: Record<string, string>) {
  return { id: 'b1', name: 'gitiso-snapshot-build-k', labels: { 'gitiso.snapshot': 'k', [LABEL.created]: iso(-60_000), ...labels } };
}

function agent(labels: Record<string, string>) {
  return { id: 'c1', name: 'gitiso-a1', labels: { [LABEL.agent]: 'a1', [LABEL.created]: iso(-60_000), ...labels } };
}

describe('owners', () => {
  it('read pid@host and decide: ended here, or too old anywhere', () => {
    assert.deepEqual(parseOwner('42@box.local'), { pid: 42, host: 'box.local' });
    assert.equal(parseOwner('nope'), undefined);
    assert.equal(isAbandoned({ owner: { pid: 7, host: 'here' }, since: NOW, staleAfterMs: 1_000 }, world), true, 'ended here');
    assert.equal(isAbandoned({ owner: { pid: 100, host: 'here' }, since: NOW, staleAfterMs: 1_000 }, world), false, 'runs here');
    assert.equal(isAbandoned({ owner: { pid: 7, host: 'there' }, since: NOW - 500, staleAfterMs: 1_000 }, world), false, 'another host: cannot ask, not old');
    assert.equal(isAbandoned({ owner: { pid: 100, host: 'here' }, since: NOW - 5_000, staleAfterMs: 1_000 }, world), true, 'past its time');
    assert.equal(isAbandoned({ since: NOW - 5_000, staleAfterMs: 1_000 }, world), true, 'no owner, old');
  });
});

describe('leftover builders', () => {
  it('are those whose creator ended or whose deadline passed, never a live one in time', () => {
    assert.equal(builderLeftover(builder({ [OWNER_LABEL]: '7@here', [BUILDER_DEADLINE_LABEL]: iso(60_000) }), world)?.obvious, true);
    assert.equal(builderLeftover(builder({ [OWNER_LABEL]: '100@here', [BUILDER_DEADLINE_LABEL]: iso(60_000) }), world), undefined);
    assert.ok(builderLeftover(builder({ [OWNER_LABEL]: '100@here', [BUILDER_DEADLINE_LABEL]: iso(-1) }), world), 'deadline passed');
    assert.equal(builderLeftover(builder({ [OWNER_LABEL]: '7@there', [BUILDER_DEADLINE_LABEL]: iso(60_000) }), world), undefined, 'another host, in time');
    assert.ok(builderLeftover(builder({ [LABEL.created]: iso(-3_600_000) }), world), 'an older version\'s, an hour old');
    assert.equal(builderLeftover(builder({ [LABEL.created]: iso(-60_000) }), world), undefined, 'an older version\'s, a minute old');
  });

  it('end with their creator or at their deadline: no sleep infinity', () => {
    const command = watchdogCommand(90_500);
    assert.deepEqual(command.slice(-1), ['91']);
    assert.match(command[2] ?? '', /cat/);
    assert.doesNotMatch(command.join(' '), /infinity/);
  });
});

describe('half-made agents', () => {
  it('are agents without a state file whose creator ended', () => {
    assert.equal(mayBeHalfMade(agent({ [OWNER_LABEL]: '7@here' }), world), true);
    assert.equal(mayBeHalfMade(agent({ [OWNER_LABEL]: '100@here' }), world), false, 'its creator runs');
    assert.equal(agentLeftover(agent({ [OWNER_LABEL]: '7@here' }), undefined)?.name, 'a1');
    const ready = { state: 'ready' as const, baseBranch: 'main', baseCommit: 'c', readyAt: iso(0) };
    assert.equal(agentLeftover(agent({ [OWNER_LABEL]: '7@here' }), ready), undefined, 'a state file: whole');
  });

  it('show as error with the reason, running or never started; a stopped agent stays stopped', () => {
    assert.deepEqual(agentState({ running: true, status: 'running', creatorGone: true }, undefined), { state: 'error', reason: INTERRUPTED_REASON });
    assert.deepEqual(agentState({ running: false, status: 'created', neverStarted: true, creatorGone: true }, undefined), { state: 'error', reason: INTERRUPTED_REASON });
    assert.match(INTERRUPTED_REASON, /^its creation was interrupted/);
    assert.deepEqual(agentState({ running: true, status: 'running', creatorGone: false }, undefined), { state: 'creating' });
    assert.equal(agentState({ running: false, status: 'exited', creatorGone: true }, undefined).state, 'stopped');
  });
});

describe('leftover files', () => {
  const found = (name: string, ageMs: number) => ({ name, path: `/tmp/${name}`, mtimeMs: NOW - ageMs });

  it('are temporary folders of ended processes, or old ones without an owner', () => {
    assert.deepEqual(parseTempName('gitiso-bundle-123-AbC9xZ'), { kind: 'bundle', pid: 123 });
    assert.deepEqual(parseTempName('gitiso-delta-AbC9xZ'), { kind: 'delta' });
    assert.equal(parseTempName('gitiso-repo-AbC9xZ'), undefined, 'not ours to judge');
    assert.equal(tempLeftover(found('gitiso-sync-7-AbC9xZ', 0), world)?.obvious, true, 'owner ended');
    assert.equal(tempLeftover(found('gitiso-sync-100-AbC9xZ', TEMP_STALE_MS * 10), world), undefined, 'owner runs, however old');
    assert.equal(tempLeftover(found('gitiso-delta-AbC9xZ', TEMP_STALE_MS + 1), world)?.obvious, false, 'old, no owner: listed, not removed unasked');
    assert.equal(tempLeftover(found('gitiso-delta-AbC9xZ', 1_000), world), undefined);
  });

  it('are pool locks whose holder ended, torn locks, breakers and first clones of ended processes', () => {
    const lock = (owner: string, ageMs = 0) => ({ text: JSON.stringify({ owner, token: 't' }), mtimeMs: NOW - ageMs });
    assert.equal(isStaleLock(lock('7@here'), world), true);
    assert.equal(isStaleLock(lock('100@here', 86_400_000), world), false, 'held by a live process');
    assert.equal(isStaleLock(lock('7@there', 60_000), world), false, 'another host, recent');
    assert.equal(isStaleLock({ text: '', mtimeMs: NOW - 1_000 }, world), false, 'being written');
    assert.equal(isStaleLock({ text: '', mtimeMs: NOW - 60_000 }, world), true, 'torn by a crash');
    assert.equal(poolEntryLeftover({ ...found('repo-abc.lock', 0), text: lock('7@here').text }, world)?.kind, 'lock');
    assert.equal(poolEntryLeftover({ ...found('repo-abc.lock', 0), text: lock('100@here').text }, world), undefined);
    assert.equal(poolEntryLeftover(found('.clone-7-ab12.git', 0), world)?.kind, 'temp');
    assert.equal(poolEntryLeftover(found('.clone-100-ab12.git', 0), world), undefined);
    assert.equal(poolEntryLeftover(found('repo-abc.lock.break', 60_000), world)?.kind, 'lock');
    assert.equal(poolEntryLeftover(found('repo-abc.git', 60_000), world), undefined, 'a mirror');
  });
});
