import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InteractiveExec } from '../../src/core/docker/interactiveExec';
import type { Engine } from '../../src/core/docker/engine';
import { TEST_LABEL, testEngine, testImage } from '../support/testEnv';

describe('interactive exec (terminals)', () => {
  let engine: Engine;
  let containerId: string;

  before(async () => {
    engine = await testEngine();
    containerId = await engine.createContainer({ Image: testImage(), Cmd: ['sleep', 'infinity'], Labels: { [TEST_LABEL]: '1' }, HostConfig: { Init: true } });
    await engine.startContainer(containerId);
  });

  after(async () => {
    await engine?.removeContainer(containerId);
  });

  it('keeps what the program printed before anyone listened, and its exit code', async () => {
    const session = await InteractiveExec.open(engine, containerId, { command: ['sh', '-c', 'echo first-prompt; exit 7'], columns: 80, rows: 24 });
    // A terminal subscribes only once open() has returned: by then the program may have printed and ended.
    await new Promise((resolve) => setTimeout(resolve, 700));
    let output = '';
    session.onData((text) => (output += text));
    const code = await new Promise<number | undefined>((resolve) => session.onExit(resolve));
    session.dispose();
    assert.match(output, /first-prompt/);
    assert.equal(code, 7);
  });
});
