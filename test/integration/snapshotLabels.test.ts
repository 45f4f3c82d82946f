import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '../../src/core/docker/engine';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { GitServer } from '../support/gitServer';
import { idPrefix, removeAgents, TEST_LABEL, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { trustSetup } from '../../src/core/setup/setupProposal';

/** What a repository (untrusted) can put in a snapshot's labels: the engine must not expand any of it. */
const LITERAL = 'home=$HOME path=${PATH:-none} q="x" b=\\ t=`id`';

describe('snapshot labels are kept literally', () => {
  let engine: Engine;
  let server: GitServer;
  let core: GitisoCore;
  const prefix = idPrefix('labels');
  const images: string[] = [];

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('dollars', { '.gitiso.json': JSON.stringify({ install: `printf '%s\\n' '${LITERAL}' >&2; exit 3` }) });
    core = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'L', email: 'l@example.com' }, setupConsent: trustSetup });
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await core?.snapshots.prune(0).catch(() => undefined);
    for (const image of images) {
      await engine.removeImage(image).catch(() => undefined);
    }
    core?.dispose();
    await server?.stop();
  });

  it('commits labels with $, quotes, backslashes and line breaks as they are (line breaks as spaces)', async () => {
    const container = await engine.createContainer({ Image: testImage(), Cmd: ['sleep', 'infinity'], Labels: { [TEST_LABEL]: 'labels' }, HostConfig: { NetworkMode: 'none' } });
    try {
      const tag = `${prefix}-commit`.toLowerCase();
      await engine.commitContainer(container, 'gitiso-test-labels', tag, { 'gitiso.test-literal': LITERAL, 'gitiso.test-lines': 'a\nLABEL evil=1' });
      images.push(`gitiso-test-labels:${tag}`);
      const labels = (await engine.inspectImage(`gitiso-test-labels:${tag}`))?.Config.Labels ?? {};
      assert.equal(labels['gitiso.test-literal'], LITERAL);
      assert.equal(labels['gitiso.test-lines'], 'a LABEL evil=1');
      assert.equal(labels.evil, undefined);
    } finally {
      await engine.removeContainer(container);
    }
  });

  it('keeps a setup error that mentions $HOME literally in the snapshot and its agent', async () => {
    const agent = await core.creator.create({ id: `${prefix}-a`, repoUrl: server.url('dollars') });
    assert.ok(agent.setupError?.includes(LITERAL), agent.setupError);
    const snapshot = (await core.snapshots.list()).find((s) => s.repoUrl === server.url('dollars'));
    assert.ok(snapshot?.setupError?.includes(LITERAL), snapshot?.setupError);
  });
});
