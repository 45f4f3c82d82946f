import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detectInstall, parseSetupFile, SETUP_FILE } from '../../src/core/setup/repoSetup';
import { proposalOf } from '../../src/core/setup/setupProposal';

const demo = join(__dirname, '..', '..', '..', 'scripts', 'demo-repo');

describe('the demo repository (npm start)', () => {
  const file = parseSetupFile(readFileSync(join(demo, SETUP_FILE), 'utf8'));

  it('names a dev server that runs in the demo image (python3, no node) and listens on $PORT', () => {
    assert.equal(file.dev, 'python3 server.py');
    const server = readFileSync(join(demo, 'server.py'), 'utf8');
    assert.match(server, /os\.environ\.get\("PORT"/);
    assert.match(server, /"0\.0\.0\.0"/);
  });

  it('asks nothing that needs consent: no install (declared or detected), no files to copy', () => {
    assert.equal(proposalOf(file, { repoUrl: 'git://demo/demo.git', fileId: 'x', copyFrom: '/workspace' }), undefined);
    assert.equal(detectInstall(readdirSync(demo)), undefined);
  });

  it('shows the branch on its page, so two agents\' previews differ', () => {
    assert.match(readFileSync(join(demo, 'index.html'), 'utf8'), /\{\{branch\}\}/);
  });
});
