import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

interface Manifest {
  capabilities?: { untrustedWorkspaces?: { supported?: boolean | string; description?: string } };
  contributes: {
    configuration: { properties: Record<string, { scope?: string }> };
    menus: Record<string, { command: string; when?: string }[]>;
  };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Manifest;

/** Settings a workspace (a repository's .vscode/settings.json) must never choose: src/vscode/config.ts MACHINE_SETTINGS. */
const MACHINE_SETTINGS = ['image', 'dockerHost', 'network', 'storagePath', 'createStrategy', 'limits.memory', 'limits.cpus', 'limits.pids', 'setup.install', 'setup.copyFiles', 'codingAgents', 'apiProxy.port'];

describe('package.json', () => {
  it('makes the engine, image, network, storage, strategy, limits and setup settings machine-scoped', () => {
    const { properties } = manifest.contributes.configuration;
    for (const name of MACHINE_SETTINGS) {
      assert.equal(properties[`gitiso.${name}`]?.scope, 'machine', `gitiso.${name}`);
    }
  });

  it('declares limited support for untrusted workspaces, and offers the create commands only in trusted ones', () => {
    const untrusted = manifest.capabilities?.untrustedWorkspaces;
    assert.equal(untrusted?.supported, 'limited');
    assert.ok((untrusted?.description ?? '').length > 20);
    for (const command of ['gitiso.createAgent', 'gitiso.createAgents']) {
      const entries = Object.values(manifest.contributes.menus).flat().filter((entry) => entry.command === command);
      assert.ok(entries.length >= 2, `${command} is in the palette and the view`);
      for (const entry of entries) {
        assert.match(entry.when ?? '', /\bisWorkspaceTrusted\b/, `${command} where ${entry.when}`);
      }
    }
  });
});
