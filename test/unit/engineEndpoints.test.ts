import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readDockerContexts } from '../../src/core/engines/dockerContexts';
import { engineEndpoints, LOCAL_ENGINE } from '../../src/core/engines/engineEndpoint';

describe('engine endpoints', () => {
  it('is the local engine alone by default', () => {
    const { endpoints, problems } = engineEndpoints({ env: {} });
    assert.deepEqual(endpoints, [{ name: LOCAL_ENGINE, host: '', from: 'default' }]);
    assert.deepEqual(problems, []);
  });

  it('adds the setting’s engines, then contexts, in order, each address once', () => {
    const { endpoints, problems } = engineEndpoints({
      env: {},
      setting: [
        { name: 'big-box', host: 'ssh://me@big-box' },
        { name: 'ci', host: 'tcp://10.0.0.5:2376', tls: { ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' } },
      ],
      contexts: [
        { name: 'default', host: 'unix:///var/run/docker.sock' },
        { name: 'colima', host: 'unix:///home/me/.colima/docker.sock' },
        { name: 'same-box', host: 'ssh://me@big-box' },
      ],
    });
    assert.deepEqual(endpoints.map((e) => [e.name, e.from]), [['local', 'default'], ['big-box', 'setting'], ['ci', 'setting'], ['colima', 'context']]);
    assert.deepEqual(endpoints[2]?.tls, { ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' });
    assert.deepEqual(problems, []);
  });

  it('says what is wrong with an entry and uses the rest', () => {
    const { endpoints, problems } = engineEndpoints({
      env: {},
      setting: [
        { name: 'local', host: 'ssh://x' },
        { name: 'bad name!', host: 'ssh://x' },
        { name: 'ftp', host: 'ftp://x' },
        { name: 'ok', host: 'unix:///run/other.sock' },
        { name: 'again', host: 'unix:///var/run/docker.sock' },
        'not an object',
      ],
    });
    assert.deepEqual(endpoints.map((e) => e.name), ['local', 'ok']);
    assert.equal(problems.length, 5);
    assert.match(problems.join('\n'), /gitiso\.engines\[0\].*taken/);
    assert.match(problems.join('\n'), /gitiso\.engines\[2\]\.host must be/);
    assert.match(problems.join('\n'), /gitiso\.engines\[4\].*already listed/);
  });

  it('refuses an ssh host or user that reads as an option to ssh (attacker: -oProxyCommand)', () => {
    const { endpoints, problems } = engineEndpoints({ env: {}, setting: [{ name: 'evil', host: 'ssh://-oProxyCommand=sh@box' }, { name: 'evil2', host: 'ssh://me@-oProxyCommand=sh' }] });
    assert.deepEqual(endpoints.map((e) => e.name), ['local']);
    assert.equal(problems.length, 2);
  });

  it('reads the docker CLI’s contexts and their TLS files, leaving out broken ones', () => {
    const config = mkdtempSync(join(tmpdir(), 'gitiso-contexts-'));
    try {
      const id = (n: number): string => String(n).repeat(64);
      const meta = (n: number, body: string): void => {
        mkdirSync(join(config, 'contexts', 'meta', id(n)), { recursive: true });
        writeFileSync(join(config, 'contexts', 'meta', id(n), 'meta.json'), body);
      };
      meta(1, JSON.stringify({ Name: 'remote', Endpoints: { docker: { Host: 'ssh://me@remote' } } }));
      meta(2, '{ not json');
      meta(3, JSON.stringify({ Name: 'tls', Endpoints: { docker: { Host: 'tcp://box:2376' } } }));
      mkdirSync(join(config, 'contexts', 'tls', id(3), 'docker'), { recursive: true });
      writeFileSync(join(config, 'contexts', 'tls', id(3), 'docker', 'ca.pem'), 'x');
      const contexts = readDockerContexts({ DOCKER_CONFIG: config }).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(contexts, [
        { name: 'remote', host: 'ssh://me@remote', tls: undefined },
        { name: 'tls', host: 'tcp://box:2376', tls: { ca: join(config, 'contexts', 'tls', id(3), 'docker', 'ca.pem'), cert: undefined, key: undefined } },
      ]);
      assert.deepEqual(readDockerContexts({ DOCKER_CONFIG: join(config, 'missing') }), []);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });
});
