import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { GitisoApi } from '../../src/extension';
import { agentLabels } from '../../src/core/agent';
import { Engine } from '../../src/core/docker/engine';
import { formatOwner, OWNER_LABEL, parseOwner } from '../../src/core/ownership';
import { GitServer } from '../support/gitServer';
import { removeAgents, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

type Context = Record<string, string | number | boolean | undefined>;

/** Splits `text` at `separator` outside parentheses. */
function splitTop(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    depth += text[i] === '(' ? 1 : text[i] === ')' ? -1 : 0;
    if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
    }
  }
  return [...parts, text.slice(start)].map((part) => part.trim());
}

/**
 * The subset of VS Code's when clauses gitiso's menus use (`&&`, `||`, `!`,
 * parentheses, `==`, `=~ /re/`, `>`, bare keys); anything else throws, so a
 * clause this cannot read fails the test instead of passing it.
 */
function evaluate(clause: string, context: Context): boolean {
  const text = clause.trim();
  const any = splitTop(text, '||');
  if (any.length > 1) {
    return any.some((part) => evaluate(part, context));
  }
  const all = splitTop(text, '&&');
  if (all.length > 1) {
    return all.every((part) => evaluate(part, context));
  }
  if (text.startsWith('!')) {
    return !evaluate(text.slice(1), context);
  }
  if (text.startsWith('(') && text.endsWith(')')) {
    return evaluate(text.slice(1, -1), context);
  }
  const regex = /^([\w.]+)\s*=~\s*\/(.*)\/(\w*)$/.exec(text);
  if (regex) {
    return new RegExp(regex[2] ?? '', regex[3]).test(String(context[regex[1] ?? ''] ?? ''));
  }
  const equal = /^([\w.]+)\s*==\s*(\S+)$/.exec(text);
  if (equal) {
    return String(context[equal[1] ?? '']) === equal[2];
  }
  const greater = /^([\w.]+)\s*>\s*(\d+)$/.exec(text);
  if (greater) {
    return Number(context[greater[1] ?? '']) > Number(greater[2]);
  }
  if (/^[\w.]+$/.test(text)) {
    return Boolean(context[text]);
  }
  throw new Error(`a when clause this test cannot read: ${clause}`);
}

interface MenuEntry {
  readonly command?: string;
  readonly submenu?: string;
  readonly when?: string;
  readonly group?: string;
}

/** Every command an agent row's context menu (or its inline bar) shows for `viewItem`, through submenus. */
function rowCommands(menus: Record<string, MenuEntry[]>, viewItem: string, inline: boolean): string[] {
  const context: Context = { view: 'gitiso.agents', viewItem, isWorkspaceTrusted: true };
  const shown = (menu: string, depth: number): string[] =>
    (menus[menu] ?? [])
      .filter((entry) => (entry.group?.startsWith('inline') ?? false) === (inline && depth === 0) && evaluate(entry.when ?? 'true', { ...context, true: true }))
      .flatMap((entry) => (entry.submenu ? shown(entry.submenu, depth + 1) : [entry.command ?? '']));
  return [...new Set(shown('view/item/context', 0))].sort();
}

describe('the agents tree in a real VS Code', () => {
  let api: GitisoApi;
  let engine: Engine;
  let server: GitServer;
  let menus: Record<string, MenuEntry[]>;
  const prefix = `t-vst-${Date.now().toString(36)}`;
  const id = (name: string): string => `${prefix}-${name}`;
  const rowOf = (agentId: string) => api.treeItems().find((item) => item.agent.id === agentId);

  before(async () => {
    const extension = vscode.extensions.getExtension<GitisoApi>('gitiso.gitiso');
    assert.ok(extension);
    api = await extension.activate();
    menus = (extension.packageJSON as { contributes: { menus: Record<string, MenuEntry[]> } }).contributes.menus;
    engine = new Engine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('tree');
    await waitFor('engine state connected', () => api.contextKeys()['gitiso.engineState'] === 'connected');
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await server?.stop();
  });

  it('lists a burst in its ids order while it is created and after, never showing one as stopped', async () => {
    const ids = [1, 2, 3].map((n) => `${id('s')}-${n}`);
    const seen: string[][] = [];
    const states = new Set<string>();
    const watch = api.gitiso.onDidChangeAgents(() => {
      const rows = api.treeItems().filter((row) => row.agent.id.startsWith(id('s')));
      seen.push(rows.map((row) => row.agent.id));
      rows.forEach((row) => states.add(String(row.description).split(' · ')[0]));
    });
    try {
      await vscode.commands.executeCommand('gitiso.createAgents', { count: 3, prefix: id('s'), repoUrl: server.url('tree') });
    } finally {
      watch.dispose();
    }
    await waitFor('three ready rows', () => ids.every((agentId) => rowOf(agentId)?.agent.state === 'ready'));
    assert.ok(seen.length > 3, `the tree changed ${seen.length} times`);
    for (const order of seen) {
      assert.deepEqual(order, ids.filter((agentId) => order.includes(agentId)), `an order seen during the creates: ${order.join(', ')}`);
    }
    assert.ok(states.has('creating') && !states.has('stopped'), `states seen: ${[...states].join(', ')}`);
    const all = api.treeItems().map((row) => row.agent.id);
    assert.deepEqual(all.filter((agentId) => ids.includes(agentId)), ids);
  });

  it('shows a row only the menu entries that apply to it', () => {
    const row = rowOf(`${id('s')}-1`);
    assert.equal(row?.contextValue, ';agent;ready;running;', 'a ready agent without a dev server or a forward');
    const context = rowCommands(menus, row.contextValue, false);
    assert.ok(context.includes('gitiso.startDevServer') && context.includes('gitiso.gitStatus') && context.includes('gitiso.forwardPort'), context.join(', '));
    for (const absent of ['gitiso.stopDevServer', 'gitiso.restartDevServer', 'gitiso.openPreview']) {
      assert.ok(!context.includes(absent), `${absent} shows on ${row.contextValue}`);
    }
    assert.deepEqual(rowCommands(menus, row.contextValue, true), ['gitiso.openTerminal', 'gitiso.removeAgent', 'gitiso.startDevServer']);

    const serving = ';agent;ready;running;dev-running;forwarded;';
    const withServer = rowCommands(menus, serving, false);
    for (const present of ['gitiso.stopDevServer', 'gitiso.restartDevServer', 'gitiso.openPreview', 'gitiso.showDevServerLog']) {
      assert.ok(withServer.includes(present), `${present} is missing on ${serving}`);
    }
    assert.ok(!withServer.includes('gitiso.startDevServer'));
    assert.deepEqual(rowCommands(menus, serving, true), ['gitiso.openPreview', 'gitiso.openTerminal', 'gitiso.removeAgent']);

    // A stopped agent offers only what works without its container.
    assert.deepEqual(rowCommands(menus, ';agent;stopped;', false), ['gitiso.copyBranchName', 'gitiso.removeAgent']);
    // The Git submenu holds the git commands, and the top level no longer does.
    assert.ok(!(menus['view/item/context'] ?? []).some((entry) => entry.command === 'gitiso.gitStatus'));
    assert.ok((menus['gitiso.git'] ?? []).some((entry) => entry.command === 'gitiso.gitStatus'));
  });

  it('hides agent commands from the palette when there are no agents', () => {
    const palette = menus.commandPalette ?? [];
    const stop = palette.find((entry) => entry.command === 'gitiso.stopDevServer');
    assert.ok(stop?.when);
    assert.equal(evaluate(stop.when, { 'gitiso.agentCount': 0 }), false);
    assert.equal(evaluate(stop.when, { 'gitiso.agentCount': 2 }), true);
  });

  it('closes a removed agent\'s stats panel', async () => {
    const agentId = `${id('s')}-3`;
    await vscode.commands.executeCommand('gitiso.showStats', agentId);
    assert.ok(api.statsPanels.openFor().includes(agentId));
    const containerId = rowOf(agentId)?.agent.containerId;
    assert.ok(containerId);
    await engine.removeContainer(containerId);
    await waitFor('the panel to close', () => !api.statsPanels.openFor().includes(agentId), 15_000);
    await waitFor('the row to go', () => rowOf(agentId) === undefined);
  });

  it('badges only the agents that need attention', async () => {
    // Agents other suites left may count already; this suite's ready ones must not.
    const others = api.badge()?.value ?? 0;
    assert.ok(!(api.badge()?.tooltip ?? '').includes(prefix), api.badge()?.tooltip);
    // A half-made agent: its creator (a process that does not exist) ended before it was ready.
    const owner = parseOwner(formatOwner());
    assert.ok(owner);
    const labels = {
      ...agentLabels({ id: id('broken'), repoUrl: `${server.url('tree')}?broken`, baseBranch: 'main', sessionBranch: `gitiso/${id('broken')}`, image: testImage(), strategy: 'snapshot', createdAt: new Date() }),
      [OWNER_LABEL]: formatOwner({ pid: 4_194_000, host: owner.host }),
    };
    const containerId = await engine.createContainer({ Image: testImage(), Cmd: ['sleep', 'infinity'], Labels: labels, name: `gitiso-${id('broken')}` });
    await engine.startContainer(containerId);
    await waitFor('the broken agent in the tree', () => rowOf(id('broken'))?.agent.state === 'error');
    await waitFor('the badge to count it', () => api.badge()?.value === others + 1);
    assert.match(api.badge()?.tooltip ?? '', new RegExp(`need(s)? attention.*${id('broken')}`));
    await engine.removeContainer(containerId);
    await waitFor('the badge to drop it', () => (api.badge()?.value ?? 0) === others);
    if (others === 0) {
      assert.equal(api.badge(), undefined, 'no badge when no agent needs attention');
    }
  });
});
