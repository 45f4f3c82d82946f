import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copySetupFiles } from '../../src/core/create/repoSetupSteps';
import type { Logger } from '../../src/core/logger';
import { resolveSetup } from '../../src/core/setup/repoSetup';
import { makeTempDir, removeDir } from '../support/testEnv';

describe('copying setup files from the host folder', () => {
  let root: string;
  let workspace: string;
  before(() => {
    root = makeTempDir('copy');
    workspace = join(root, 'workspace');
    const secrets = join(root, 'home');
    mkdirSync(join(secrets, '.ssh'), { recursive: true });
    writeFileSync(join(secrets, '.ssh', 'id_rsa'), 'PRIVATE KEY');
    writeFileSync(join(secrets, 'credentials'), 'TOKEN');
    mkdirSync(join(workspace, 'config'), { recursive: true });
    writeFileSync(join(workspace, '.env'), 'A=1\n');
    writeFileSync(join(workspace, 'config', 'local.json'), '{}');
    // What a repository can commit: links that lead out of the folder it is checked out in.
    symlinkSync(join(secrets, 'credentials'), join(workspace, 'creds'));
    symlinkSync('../home/.ssh', join(workspace, 'keys'));
    // A link that stays inside is fine.
    symlinkSync('config/local.json', join(workspace, 'local.json'));
  });
  after(() => removeDir(root));

  it('copies files inside the folder, never through a link that leads out of it', async () => {
    const written = new Map<string, string>();
    const warnings: string[] = [];
    const log = { warn: (message: string) => void warnings.push(message) } as unknown as Logger;
    const engine = { putFile: async (_id: string, path: string, content: string | Buffer) => void written.set(path, content.toString()) };
    const setup = resolveSetup({ copy: ['.env', 'config/local.json', 'local.json', 'creds', 'keys/id_rsa', 'missing'] }, {}, new Map());
    await copySetupFiles(engine, log, { containerId: 'c', setup, from: workspace });
    assert.deepEqual([...written.keys()].sort(), ['/workspace/.env', '/workspace/config/local.json', '/workspace/local.json']);
    assert.ok(![...written.values()].some((content) => /PRIVATE KEY|TOKEN/.test(content)));
    assert.equal(warnings.filter((w) => /leads outside/.test(w)).length, 2, warnings.join('\n'));
  });
});
