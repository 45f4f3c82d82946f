import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { BUILT_IN_PRESETS, codingAgentPresets, DEFAULT_PRESET, offeredPreset, presetNamed, taskCommand } from '../../src/core/codingAgents/codingAgentPreset';
import { parseSessionState, parseTaskInfo, taskTitle, TITLE_MAX_LENGTH, type SessionState } from '../../src/core/codingAgents/sessionState';
import { IDLE_PROBE_EVERY_ROUNDS, SessionWatch } from '../../src/core/codingAgents/sessionWatch';
import { InvalidInputError } from '../../src/core/errors';

describe('coding agent presets', () => {
  it('has the built-in ones, each with a task command that takes the prompt', () => {
    assert.deepEqual(codingAgentPresets(undefined).map((preset) => preset.name), ['claude-code', 'codex', 'gemini', 'aider']);
    for (const preset of BUILT_IN_PRESETS) {
      assert.ok(preset.task.includes('{prompt}'), preset.name);
      assert.match(preset.api?.upstream ?? '', /^https:\/\//, preset.name);
    }
  });

  it("adds the user's presets and lets one replace a built-in of the same name", () => {
    const presets = codingAgentPresets([
      { name: 'mine', command: ['./agent.sh'] },
      { name: 'codex', command: ['codex', '--full-auto'], task: ['codex', '--full-auto', '{prompt}'] },
    ]);
    assert.deepEqual(presetNamed(presets, 'mine').task, ['./agent.sh', '{prompt}']);
    assert.deepEqual(presetNamed(presets, 'codex').command, ['codex', '--full-auto']);
    assert.equal(presetNamed(presets, 'codex').api, undefined, 'a replaced preset keeps nothing of the built-in, its API included');
    assert.throws(() => presetNamed(presets, 'nope'), /no coding agent named 'nope'.*claude-code.*gitiso\.codingAgents/);
  });

  it("offers the first default that is a preset: a workspace's or a repository's unknown name only moves the pick's start", () => {
    const presets = codingAgentPresets([{ name: 'mine', command: ['mine'], task: ['mine', '{prompt}'] }]);
    assert.equal(offeredPreset(presets, ['mine', 'codex']).name, 'mine');
    assert.equal(offeredPreset(presets, ['collector', 'codex']).name, 'codex');
    assert.equal(offeredPreset(presets, ['collector', undefined]).name, DEFAULT_PRESET);
    assert.throws(() => presetNamed(presets, 'collector'), InvalidInputError, 'asked for by name, an unknown one is still refused');
  });

  it('puts the prompt in as one argument, whatever it holds', () => {
    const prompt = 'fix it; rm -rf / $(id) `id`\n"next"';
    assert.deepEqual(taskCommand(presetNamed(codingAgentPresets(undefined), 'aider'), prompt), ['aider', '--message', prompt]);
    assert.throws(() => taskCommand(BUILT_IN_PRESETS[0] as never, '  \n'), InvalidInputError);
  });

  it('refuses presets that would send the key somewhere it should not go, or run through a shell', () => {
    const api = { upstream: 'https://api.example.com/v1', baseUrlEnv: 'MY_BASE', keyEnv: 'MY_KEY', keyHeader: 'Authorization' };
    assert.equal(codingAgentPresets([{ name: 'ok', command: ['x'], api }])[4]?.api?.keyHeader, 'authorization');
    const refused: [string, unknown][] = [
      ['not a list', { name: 'x' }],
      ['a command as a string', [{ name: 'x', command: 'x --yes' }]],
      ['no prompt in the task', [{ name: 'x', command: ['x'], task: ['x', '--go'] }]],
      ['a name with a slash', [{ name: '../x', command: ['x'] }]],
      ['plain http', [{ name: 'x', command: ['x'], api: { ...api, upstream: 'http://api.example.com' } }]],
      ['a login in the URL', [{ name: 'x', command: ['x'], api: { ...api, upstream: 'https://user:pw@api.example.com' } }]],
      ['PATH as the base variable', [{ name: 'x', command: ['x'], api: { ...api, baseUrlEnv: 'PATH' } }]],
      ['LD_PRELOAD as the key variable', [{ name: 'x', command: ['x'], api: { ...api, keyEnv: 'LD_PRELOAD' } }]],
      ['the key in Host', [{ name: 'x', command: ['x'], api: { ...api, keyHeader: 'Host' } }]],
      ['a header with a newline', [{ name: 'x', command: ['x'], api: { ...api, keyHeader: 'x-key\r\nx-evil' } }]],
    ];
    for (const [what, value] of refused) {
      assert.throws(() => codingAgentPresets(value), InvalidInputError, what);
    }
  });
});

describe('session state', () => {
  const task = JSON.stringify({ preset: 'fake', title: 'fix the tests', startedAt: '2026-12-02T06:00:00.000Z' });

  it('reads working, waiting and finished from the pane, its activity and the exit file', () => {
    assert.deepEqual(parseSessionState(`0 1000\n1003\n${task}\n\n`), { activity: 'working', quietSeconds: 3, task: { preset: 'fake', title: 'fix the tests', startedAt: '2026-12-02T06:00:00.000Z' } });
    assert.equal(parseSessionState(`0 1000\n1020\n${task}\n\n`)?.activity, 'waiting');
    assert.equal(parseSessionState(`0 1000\n1003\n${task}\n\n`, 2)?.activity, 'waiting');
    assert.deepEqual(parseSessionState(`1 1000\n1020\n${task}\n3 1001\n`), { activity: 'finished', quietSeconds: 20, exitCode: 3, task: { preset: 'fake', title: 'fix the tests', startedAt: '2026-12-02T06:00:00.000Z' } });
    // Dead without an exit file (killed before it could write it): finished, status unknown.
    assert.deepEqual(parseSessionState('1 1000\n1001\n\n\n'), { activity: 'finished', quietSeconds: 1 });
  });

  it("reads what the agent may have rewritten as nothing, or without the task", () => {
    assert.equal(parseSessionState('garbage'), undefined);
    assert.equal(parseSessionState('0 1000\nnot a clock\n\n\n'), undefined);
    assert.equal(parseSessionState(`0 1000\n1001\n{"preset":"${'p'.repeat(100)}","title":"x","startedAt":"y"}\n\n`)?.task, undefined);
    assert.equal(parseTaskInfo('{"preset":1}'), undefined);
    assert.equal(parseSessionState('0 1000\n1001\n\n300 1\n')?.exitCode, undefined, 'an exit status beyond 255 is not one');
  });

  it("titles a task by its prompt's first line, cut short", () => {
    assert.equal(taskTitle('\n  Fix the login page  \nthen the rest'), 'Fix the login page');
    assert.equal(taskTitle('x'.repeat(200)).length, TITLE_MAX_LENGTH);
    assert.equal(parseTaskInfo(JSON.stringify({ preset: 'p', title: 'y'.repeat(500), startedAt: 'now' }))?.title.length, TITLE_MAX_LENGTH);
  });
});

describe('session watch', () => {
  const state = (activity: 'working' | 'waiting' | 'finished', exitCode?: number): SessionState => ({ activity, quietSeconds: 0, task: { preset: 'fake', title: 't', startedAt: 's' }, ...(exitCode === undefined ? {} : { exitCode }) });

  it('tells which agents changed and how, once per change, and forgets agents that stop', async () => {
    const now = new Map<string, SessionState | undefined>([['a', state('working')], ['b', undefined]]);
    let running = ['a', 'b'];
    const watch = new SessionWatch({ sessions: { state: async (id) => now.get(id) }, runningAgents: () => running });
    const changes: string[][] = [];
    const transitions: string[] = [];
    watch.onDidChange((ids) => changes.push([...ids].sort()));
    watch.onDidTransition((t) => transitions.push(`${t.agentId}:${t.from ?? '-'}>${t.state.activity}${t.state.exitCode ?? ''}`));
    await watch.refresh();
    await watch.refresh(); // nothing moved: nothing told
    now.set('a', state('waiting'));
    now.set('b', state('working'));
    await watch.refresh();
    now.set('a', state('finished', 2));
    await watch.refresh();
    running = ['b'];
    await watch.refresh();
    assert.deepEqual(transitions, ['a:->working', 'a:working>waiting', 'b:->working', 'a:waiting>finished2']);
    assert.deepEqual(changes, [['a'], ['a', 'b'], ['a'], ['a']]);
    assert.equal(watch.stateOf('a'), undefined);
    assert.equal(watch.stateOf('b')?.activity, 'working');
    watch.dispose();
  });

  it('probes agents with no session or a finished one only every few rounds of its timer, and every agent on refresh', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const now = new Map<string, SessionState | undefined>([['working', state('working')], ['finished', state('finished', 0)], ['none', undefined]]);
      const probed: string[] = [];
      const watch = new SessionWatch({ sessions: { state: async (id) => (probed.push(id), now.get(id)) }, runningAgents: () => ['working', 'finished', 'none'], intervalMs: 1_000 });
      // A round's probes answer at once: its promises are done before the next turn of the event loop.
      const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
      const rounds = async (count: number): Promise<void> => {
        for (let k = 0; k < count; k++) {
          mock.timers.tick(1_000);
          await settled();
        }
      };
      watch.setActive(true); // its first round probes all
      await settled();
      assert.deepEqual(probed.splice(0).sort(), ['finished', 'none', 'working']);
      await rounds(IDLE_PROBE_EVERY_ROUNDS - 1);
      assert.deepEqual(probed.splice(0), Array(IDLE_PROBE_EVERY_ROUNDS - 1).fill('working'));
      await rounds(1); // the idle ones' turn
      assert.deepEqual(probed.splice(0).sort(), ['finished', 'none', 'working']);
      // A task starts in the agent that had none: refresh() looks at once, and the timer then probes it every round.
      now.set('none', state('working'));
      await watch.refresh();
      assert.deepEqual(probed.splice(0).sort(), ['finished', 'none', 'working']);
      assert.equal(watch.stateOf('none')?.activity, 'working');
      await rounds(2);
      assert.deepEqual(probed.splice(0).sort(), ['none', 'none', 'working', 'working']);
      watch.dispose();
    } finally {
      mock.timers.reset();
    }
  });

  it('shares a round asked for while one runs, and keeps going when a probe fails', async () => {
    let probes = 0;
    const watch = new SessionWatch({
      sessions: {
        state: async (id) => {
          probes++;
          if (id === 'gone') {
            throw new Error('agent stopped');
          }
          return state('working');
        },
      },
      runningAgents: () => ['a', 'gone'],
    });
    await Promise.all([watch.refresh(), watch.refresh()]);
    assert.equal(probes, 2);
    assert.equal(watch.stateOf('a')?.activity, 'working');
    watch.dispose();
  });
});
