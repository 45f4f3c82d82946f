import * as assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { LABEL, type Agent } from '../../src/core/agent';
import { Engine } from '../../src/core/docker/engine';
import { READY_STATES_DIR } from '../../src/core/readyStates';
import { defaultStorageDir } from '../../src/core/storage';
import type { GitisoApi } from '../../src/extension';
import type { TreeRender } from '../../src/vscode/views/agentsTreeProvider';
import { waitFor } from '../support/waitFor';

/** What bench/treeBench.ts made and wants measured (GITISO_BENCH). */
export interface TreeBenchRequest {
  readonly out: string;
  readonly prefix: string;
  readonly agents: number;
  readonly repetitions: number;
}

/** What this suite writes to `out`. */
export interface TreeBenchFigures {
  /** Whether gitiso was active before this suite began (activated at the window's start, its view hidden). */
  readonly activeBefore: boolean;
  readonly activatedInMs: number;
  /** From activate() to the view's complete tree, when gitiso activated because this suite showed its view. */
  readonly startupMs?: number;
  /** Of which: until the model had its first listing. */
  readonly startupModelMs?: number;
  /** From activate() to the view's first read of the tree, whatever it held: when VS Code first asked. */
  readonly firstAskMs?: number;
  /** From a change of engine (a new core, window and view already up) with every state saved to the complete tree. */
  readonly warmReconnectMs: number;
  readonly warmReconnectModelMs: number;
  /** From an agent's `die` on the engine to the view's row showing it stopped, each time. */
  readonly rowMs: number[];
  /** Of which: until the model had it (the rest is VS Code asking the tree again). */
  readonly rowModelMs: number[];
  /** From a change of engine (a new core) with no saved state (every agent's state file read from its container) to the view's complete tree. */
  readonly coldReconnectMs: number;
  /** Of which: until the new model had listed every agent. */
  readonly coldReconnectModelMs: number;
}

/**
 * Not a test: the tree part of `npm run bench` (bench/treeBench.ts), run only
 * when named (GITISO_VSCODE_TESTS=treeScale), inside a real VS Code with the
 * benchmark's agents already on the engine. Writes its figures to a file.
 */
describe('the tree at scale (benchmark)', () => {
  it('times the complete tree and a row after an engine event', async function () {
    // 100 agents: the waits for the start-up work and the two changes of engine take minutes on two cores.
    this.timeout(600_000);
    const request = JSON.parse(process.env.GITISO_BENCH ?? 'null') as TreeBenchRequest | null;
    assert.ok(request, 'GITISO_BENCH is not set: run this through bench/treeBench.ts (BENCH_ONLY=tree npm run bench)');
    const extension = vscode.extensions.getExtension<GitisoApi>('gitiso.gitiso');
    assert.ok(extension, 'gitiso is not installed in this VS Code');
    const activeBefore = extension.isActive;
    // Showing the view activates gitiso when nothing did yet: the start a user with the view open sees.
    await vscode.commands.executeCommand('gitiso.agents.focus');
    const api = await extension.activate();
    const ours = (agents: readonly Agent[]): Agent[] => agents.filter((agent) => agent.id.startsWith(request.prefix));
    const complete = (since: number) => (render: TreeRender | undefined): boolean => !!render && render.at > since && render.listed && ours(render.agents).length === request.agents;

    const first = await renderWhere(api, complete(api.activatedAt), 120_000);
    const startupMs = activeBefore ? undefined : first.at - api.activatedAt;
    const startupModelMs = activeBefore ? undefined : (api.gitiso.model.listedAt ?? NaN) - api.activatedAt;
    const firstAskMs = activeBefore ? undefined : (api.firstTreeRender()?.at ?? NaN) - api.activatedAt;

    // What the first tree made wait (stats of every agent, dev server probes) runs now: it is let finish first.
    const running = (): number => ours(api.gitiso.model.agents).filter((agent) => agent.state === 'ready').length;
    await waitFor('a stats sample of every agent', () => ours(api.gitiso.model.agents).every((agent) => api.gitiso.stats.current.has(agent.id)), 60_000).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    console.log(`      ${running()} ready agents; ${api.gitiso.stats.current.size} sampled ${Math.round(performance.now() - api.activatedAt)} ms after activation`);

    // A change of engine builds a new core and lists every agent afresh, as an activation does.
    const config = vscode.workspace.getConfiguration('gitiso');
    const address = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
    const storageDir = defaultStorageDir();
    // Warm: the states of the agents are saved (their creator kept them).
    const warmStarted = performance.now();
    await config.update('dockerHost', address, vscode.ConfigurationTarget.Global);
    const warmReconnectMs = (await renderWhere(api, complete(warmStarted), 60_000)).at - warmStarted;
    const warmReconnectModelMs = (api.gitiso.model.listedAt ?? NaN) - warmStarted;
    console.log(`      warm change of engine: ${Math.round(warmReconnectMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5_000));

    // Cold: what no window or CLI of this machine saw before is read from each container. The setting stays:
    // this VS Code's settings are the run's own. The same engine, by another spelling of its address.
    rmSync(join(storageDir, READY_STATES_DIR), { recursive: true, force: true });
    const started = performance.now();
    await config.update('dockerHost', address.startsWith('unix://') ? address.replace(/\/([^/]+)$/, '//$1') : `${address}/`, vscode.ConfigurationTarget.Global);
    const coldReconnectMs = (await renderWhere(api, complete(started), 60_000)).at - started;
    // The new model's first listing read every state file; the tree follows it.
    const coldReconnectModelMs = (api.gitiso.model.listedAt ?? NaN) - started;

    const engine = new Engine();
    const rowMs: number[] = [];
    const rowModelMs: number[] = [];
    for (let rep = 0; rep < request.repetitions; rep++) {
      const agent = ours(api.gitiso.model.agents).find((a) => a.state === 'ready');
      assert.ok(agent, 'no ready agent left to stop');
      const died = dieOf(engine, agent.containerId);
      const modelAt = modelWhere(api, () => api.gitiso.model.agents.some((a) => a.id === agent.id && a.state === 'stopped'));
      await engine.stopContainer(agent.containerId, 1);
      const diedAt = await died;
      // The row redrawn alone (getTreeItem), or the whole tree read again (getChildren): whichever showed it first.
      const shows = (seen: { readonly agent: Agent } | undefined): boolean => seen?.agent.state === 'stopped';
      await waitFor('the row to show the agent stopped', () => shows(api.lastRowRender(agent.id)) || !!api.lastTreeRender()?.agents.some((a) => a.id === agent.id && a.state === 'stopped'), 30_000);
      const row = api.lastRowRender(agent.id);
      const root = api.lastTreeRender();
      const render = { at: Math.min(shows(row) ? (row?.at ?? Infinity) : Infinity, root?.agents.some((a) => a.id === agent.id && a.state === 'stopped') ? root.at : Infinity) };
      // The engine's clock is the host's wall clock; the render's is performance.now().
      const wall = Date.now() - performance.now();
      rowMs.push(render.at + wall - diedAt);
      rowModelMs.push((await modelAt) + wall - diedAt);
    }
    const figures: TreeBenchFigures = { activeBefore, activatedInMs: api.activatedInMs, startupMs, startupModelMs, firstAskMs, warmReconnectMs, warmReconnectModelMs, coldReconnectMs, coldReconnectModelMs, rowMs, rowModelMs };
    writeFileSync(request.out, JSON.stringify(figures));
    console.log(`      tree at scale: ${JSON.stringify(figures)}`);
  });
});

/** The first render of the view that `holds`, polled often so its time is the render's own. */
async function renderWhere(api: GitisoApi, holds: (render: TreeRender | undefined) => boolean, timeoutMs: number): Promise<TreeRender> {
  await waitFor('the tree to show what the benchmark waits for', () => holds(api.lastTreeRender()), timeoutMs);
  return api.lastTreeRender() as TreeRender;
}

/** When (performance.now()) the model first said something that makes `holds` true. */
function modelWhere(api: GitisoApi, holds: () => boolean): Promise<number> {
  return new Promise((resolve) => {
    const listener = api.gitiso.onDidChangeAgents(() => {
      if (holds()) {
        listener.dispose();
        resolve(performance.now());
      }
    });
  });
}

/** When (epoch ms, the engine's clock) the container's next `die` happened. */
async function dieOf(engine: Engine, containerId: string): Promise<number> {
  const stream = await engine.containerEvents(LABEL.agent, ['die']);
  return new Promise((resolve) => {
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const event = JSON.parse(line) as { id?: string; timeNano?: number };
        if (event.id === containerId && event.timeNano) {
          (stream as unknown as { destroy(): void }).destroy();
          resolve(event.timeNano / 1e6);
        }
      }
    });
  });
}
