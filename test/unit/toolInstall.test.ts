import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { codingAgentPresets, presetNamed } from '../../src/core/codingAgents/codingAgentPreset';
import { toolInstallOf, toolInstallScript, withToolInstall } from '../../src/core/codingAgents/toolInstall';
import { resolveSetup } from '../../src/core/setup/repoSetup';
import { makeTempDir, removeDir } from '../support/testEnv';

describe('a coding agent\'s install in the setup key', () => {
  const repoOnly = resolveSetup({}, {}, new Map([['package-lock.json', 'blob-1']]));
  const tool = { preset: 'mine', command: 'npm install -g my-agent' };

  it('leaves the key as it is without a tool install: agents without a task keep the repository\'s snapshot', () => {
    assert.equal(withToolInstall(repoOnly, undefined), repoOnly);
    assert.equal(withToolInstall(repoOnly, undefined).key, repoOnly.key);
  });

  it('changes the key with the tool\'s install, and only with it', () => {
    const withTool = withToolInstall(repoOnly, tool);
    assert.notEqual(withTool.key, repoOnly.key);
    assert.deepEqual(withTool.tool, tool);
    assert.equal(withTool.install, repoOnly.install, 'the repository\'s install is kept, and runs first');
    assert.equal(withToolInstall(repoOnly, { ...tool }).key, withTool.key, 'the same install: the same snapshot');
    assert.equal(withToolInstall(repoOnly, { ...tool, preset: 'another-name' }).key, withTool.key, 'presets that install alike share it');
    assert.notEqual(withToolInstall(repoOnly, { ...tool, command: 'npm install -g other-agent' }).key, withTool.key);
    // The repository's part still counts: another lockfile, another snapshot.
    const otherLock = resolveSetup({}, {}, new Map([['package-lock.json', 'blob-2']]));
    assert.notEqual(withToolInstall(otherLock, tool).key, withTool.key);
    // A repository without an install (key '') gets a key of its own with the tool.
    const bare = resolveSetup({}, {}, new Map());
    assert.equal(bare.key, '');
    assert.notEqual(withToolInstall(bare, tool).key, '');
  });

  it('takes the install from the preset, none when it has none', () => {
    const presets = codingAgentPresets([{ name: 'plain', command: ['plain'] }, { name: 'mine', command: ['mine'], install: 'pip install mine' }]);
    assert.equal(toolInstallOf(presetNamed(presets, 'plain')), undefined);
    assert.deepEqual(toolInstallOf(presetNamed(presets, 'mine')), { preset: 'mine', command: 'pip install mine' });
    assert.match(toolInstallOf(presetNamed(presets, 'claude-code'))?.command ?? '', /npm install -g/);
  });
});

/**
 * The script, run by a real sh with a PATH of fakes only: `id` says who runs
 * it, `apt-get` records its arguments and (when it succeeds) puts a `tmux`
 * there, `tmux` is there or not, the tool's install writes a file.
 */
describe('the tool install\'s tmux step', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));

  function fakes(options: { readonly uid: number; readonly tmux: boolean; readonly apt?: 'works' | 'fails' }): { bin: string; run: () => { status: number | null; stderr: string }; aptCalls: () => string[]; installed: () => boolean } {
    const bin = makeTempDir('tool-install');
    dirs.push(bin);
    const tool = (name: string, body: string): void => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    tool('id', `echo ${options.uid}`);
    if (options.tmux) {
      tool('tmux', 'exit 0');
    }
    if (options.apt) {
      const makeTmux = `: > "${bin}/tmux"`;
      tool('apt-get', `echo "$*" >> "${bin}/apt-calls"\n${options.apt === 'fails' ? 'exit 100' : `case "$1" in install) ${makeTmux};; esac`}`);
      // The real one is not on this PATH: the clean-up of apt's lists is a no-op here.
      tool('rm', '');
    }
    const script = toolInstallScript(`echo installed > "${bin}/tool"`);
    return {
      bin,
      run: () => {
        const result = spawnSync('/bin/sh', ['-c', script], { env: { PATH: bin }, encoding: 'utf8' });
        return { status: result.status, stderr: result.stderr };
      },
      aptCalls: () => (existsSync(join(bin, 'apt-calls')) ? readFileSync(join(bin, 'apt-calls'), 'utf8').trim().split('\n') : []),
      installed: () => existsSync(join(bin, 'tool')),
    };
  }

  it('asks no package manager when the image has tmux', () => {
    const fake = fakes({ uid: 0, tmux: true, apt: 'works' });
    assert.equal(fake.run().status, 0);
    assert.deepEqual(fake.aptCalls(), []);
    assert.ok(fake.installed());
  });

  it('installs tmux with apt-get when it is missing, then the tool', () => {
    const fake = fakes({ uid: 0, tmux: false, apt: 'works' });
    assert.equal(fake.run().status, 0);
    assert.deepEqual(fake.aptCalls(), ['update -qq', 'install -y -qq --no-install-recommends tmux']);
    assert.ok(existsSync(join(fake.bin, 'tmux')));
    assert.ok(fake.installed());
  });

  it('stops with a line that names tmux when its install fails, before the tool\'s', () => {
    const fake = fakes({ uid: 0, tmux: false, apt: 'fails' });
    const result = fake.run();
    assert.equal(result.status, 1);
    assert.match(result.stderr, /could not install tmux/);
    assert.ok(!fake.installed());
  });

  it('leaves tmux to the image when no package manager can install it (not root, or none there): the session says so', () => {
    for (const fake of [fakes({ uid: 1000, tmux: false, apt: 'works' }), fakes({ uid: 0, tmux: false })]) {
      assert.equal(fake.run().status, 0);
      assert.deepEqual(fake.aptCalls(), []);
      assert.ok(fake.installed());
    }
  });
});
