import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABEL } from '../../src/core/agent';
import { AGENT_CAPABILITIES, agentContainerSpec } from '../../src/core/docker/containerSpec';
import { SAMPLE_IDENTITY as identity } from '../support/sampleAgent';

describe('agent container spec', () => {
  it('keeps the working tree in the container and the agent in its labels', () => {
    const spec = agentContainerSpec({ identity, image: 'img', env: { A: '1' }, network: 'net', limits: { memoryBytes: 1024 ** 3, cpus: 1.5, pids: 256 } });
    assert.equal(spec.name, 'gitiso-a1');
    assert.equal(spec.WorkingDir, '/workspace');
    assert.deepEqual(spec.Env, ['A=1', 'GITISO_CPUS=1.5', `GITISO_MEMORY_BYTES=${1024 ** 3}`, 'GITISO_PIDS=256']);
    assert.equal(spec.HostConfig?.Memory, 1024 ** 3);
    assert.equal(spec.HostConfig?.NanoCpus, 1_500_000_000);
    assert.equal(spec.HostConfig?.PidsLimit, 256);
    assert.deepEqual(spec.Cmd?.slice(-2), ['sleep', 'infinity'], 'the budget file is written before the command runs');
    assert.equal(spec.HostConfig?.Init, true);
    assert.deepEqual(spec.HostConfig?.RestartPolicy, { Name: 'unless-stopped' }, 'agents come back after the engine restarts');
    assert.equal(spec.HostConfig?.NetworkMode, 'net');
    assert.equal(spec.HostConfig?.Binds, undefined);
    assert.equal(spec.Labels?.[LABEL.agent], 'a1');
  });

  it('confines the agent: only the capabilities git, installs and dev servers need, and no way to gain more', () => {
    const spec = agentContainerSpec({ identity, image: 'img', network: 'net', limits: { memoryBytes: 1024 ** 3, cpus: 1, pids: 256 } });
    assert.deepEqual(spec.HostConfig?.CapDrop, ['ALL']);
    const added: readonly string[] = spec.HostConfig?.CapAdd ?? [];
    assert.deepEqual(added, [...AGENT_CAPABILITIES] as string[]);
    assert.deepEqual(spec.HostConfig?.SecurityOpt, ['no-new-privileges']);
    for (const dropped of ['NET_RAW', 'MKNOD', 'AUDIT_WRITE', 'SETFCAP', 'SETPCAP', 'SYS_CHROOT', 'NET_ADMIN', 'SYS_ADMIN']) {
      assert.ok(!added.includes(dropped), `${dropped} is kept`);
    }
    for (const kept of ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID', 'NET_BIND_SERVICE']) {
      assert.ok(added.includes(kept), `${kept} is dropped`);
    }
  });
});
