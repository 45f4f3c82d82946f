import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WALKTHROUGH_ID } from '../../src/vscode/extensionId';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string };
  completionEvents?: string[];
}

const repoRoot = join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  contributes: {
    commands: { command: string }[];
    configuration: { properties: Record<string, unknown> };
    walkthroughs?: { id: string; steps: Step[] }[];
  };
};
const commands = new Set(manifest.contributes.commands.map((entry) => entry.command));
const settings = new Set(Object.keys(manifest.contributes.configuration.properties));
/** The context keys the extension sets (src/vscode/contextKeys.ts). */
const contextKeys = readFileSync(join(repoRoot, 'src/vscode/contextKeys.ts'), 'utf8').match(/'gitiso\.\w+'/g)?.map((key) => key.slice(1, -1)) ?? [];
const walkthrough = manifest.contributes.walkthroughs?.find((entry) => entry.id === WALKTHROUGH_ID);
const steps = walkthrough?.steps ?? [];

describe('the getting-started walkthrough', () => {
  it('walks engine, image, first agent, terminal, dev server and preview, review', () => {
    assert.deepEqual(steps.map((step) => step.id), ['engine', 'image', 'createAgent', 'terminal', 'preview', 'review']);
    assert.ok(commands.has('gitiso.getStarted'));
  });

  it('gives every step a command button for a command that exists, and media that exists', () => {
    for (const step of steps) {
      const links = [...step.description.matchAll(/\]\(command:([\w.]+)/g)].map((match) => match[1]);
      assert.ok(links.length > 0, `${step.id} has no command button`);
      for (const command of links) {
        assert.ok(commands.has(command) || command.startsWith('workbench.'), `${step.id}: ${command}`);
      }
      assert.ok(step.media.markdown && existsSync(join(repoRoot, step.media.markdown)), `${step.id}: ${step.media.markdown}`);
    }
  });

  it('completes every step on an event that names a real command, setting or context key', () => {
    assert.ok(contextKeys.includes('gitiso.engineState'), JSON.stringify(contextKeys));
    for (const step of steps) {
      const events = step.completionEvents ?? [];
      assert.ok(events.length > 0, `${step.id} never completes`);
      for (const event of events) {
        const [kind, rest = ''] = event.split(/:(.*)/s);
        const name = rest.split(/\s/)[0];
        if (kind === 'onCommand') {
          assert.ok(commands.has(name) || name.startsWith('workbench.'), event);
        } else if (kind === 'onSettingChanged') {
          assert.ok(settings.has(name), event);
        } else {
          assert.equal(kind, 'onContext', event);
          assert.ok(contextKeys.includes(name), event);
        }
      }
    }
  });
});
