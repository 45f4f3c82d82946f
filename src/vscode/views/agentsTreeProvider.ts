import * as vscode from 'vscode';
import { isRunning, type Agent } from '../../core/agent';
import { describeCause } from '../../core/errors';
import type { Gitiso } from '../composition';
import type { SessionWatch } from '../../core/codingAgents/sessionWatch';
import type { DevServerStates } from '../devServerStates';
import type { AgentChangesCache } from '../review/agentChanges';
import { AgentTreeItem, type AgentRowState } from './agentTreeItem';
import { ChangedFileTreeItem } from './changedFileTreeItem';
import { ChangesMessageItem, ChangesTreeItem } from './changesTreeItem';
import type { FirstTree } from './firstTree';
import { engineRowText } from './engineRowText';
import { EngineTreeItem, UnreachableAgentTreeItem } from './engineTreeItem';
import { ForwardTreeItem } from './forwardTreeItem';

export type AgentsTreeNode = AgentTreeItem | ForwardTreeItem | ChangesTreeItem | ChangedFileTreeItem | ChangesMessageItem | EngineTreeItem | UnreachableAgentTreeItem;

/** How often the provider asked the view to refresh, and how (the extension-host tests read it). */
export interface TreeRefreshCounts {
  /** Refreshes of the whole tree. */
  readonly full: number;
  /** Refreshes of some agent rows only (with their forwards). */
  readonly rows: number;
}

/** The view's last read of the root: when (performance.now()), which agents it got, and whether they were the engine's list yet. */
export interface TreeRender {
  readonly at: number;
  readonly agents: readonly Agent[];
  readonly listed: boolean;
}

/**
 * Renders the model's agents, this window's forwards of their ports and each
 * running agent's changes; owns no data and shows no notifications. A change
 * of agents refreshes the whole tree; a forward or a stats sample refreshes
 * only the rows it touches, new changes only that agent's Changes node.
 */
export class AgentsTreeProvider implements vscode.TreeDataProvider<AgentsTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<AgentsTreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly opened = new vscode.EventEmitter<AgentTreeItem | ChangesTreeItem>();
  /**
   * The view asked for an agent row's or a Changes node's children, so it shows
   * that node open. Its expand event can be lost: VS Code drops one for a node
   * whose row was redrawn between the click and the event.
   */
  readonly onDidShowOpen = this.opened.event;
  private readonly subscriptions: vscode.Disposable[];
  /** The rows handed out, by agent id: the view refreshes a row only by the same object. */
  private readonly rows = new Map<string, AgentTreeItem>();
  /** The Changes nodes handed out, by agent id, for the same reason. */
  private readonly changesNodes = new Map<string, ChangesTreeItem>();
  /** Rows the user opened (true) or closed (false), by agent id. */
  private readonly expansions = new Map<string, boolean>();
  private fullRefreshes = 0;
  private rowRefreshes = 0;
  private render: TreeRender | undefined;
  private firstRender: TreeRender | undefined;
  /** The agents in the order the view last got them: a change that keeps it redraws only the rows that changed. */
  private shown: readonly string[] = [];
  /** What the view was last given of each row's agent and progress, by agent id (not what other callers of agentItems saw). */
  private readonly drawn = new Map<string, string>();
  /** When the view last took each agent's row (getTreeItem), showing which agent. */
  private readonly rowRenders = new Map<string, { readonly at: number; readonly agent: Agent }>();
  /** With several engines, their rows (agents group under them), and what each last showed. */
  private readonly engineRows = new Map<string, EngineTreeItem>();
  private readonly engineLooks = new Map<string, string>();
  /** Each engine's memory, once asked (engine rows show their agents' limits against it). */
  private readonly engineMemory = new Map<string, number>();

  constructor(
    private readonly gitiso: Gitiso,
    private readonly changes: AgentChangesCache,
    private readonly devStates: DevServerStates,
    private readonly more: {
      /** What each agent's coding agent is doing. */
      readonly sessions: Pick<SessionWatch, 'stateOf' | 'onDidChange'>;
      /** Told when the view first has the complete tree (start-up work waits for it). */
      readonly firstTree?: FirstTree;
    },
  ) {
    const { sessions } = more;
    this.subscriptions = [
      devStates.onDidChange((agentId) => this.refreshRows((row) => row.agent.id === agentId)),
      sessions.onDidChange((agentIds) => this.refreshRows((row) => agentIds.includes(row.agent.id))),
      changes.onDidChange((agentId) => this.refreshChanges(agentId)),
      gitiso.onDidChangeAgents(() => this.refreshAgents()),
      gitiso.onDidChangeForwards((agentId) => this.refreshRows((row) => row.agent.id === agentId)),
      gitiso.onDidChangeUsage((agentIds) => this.refreshRows((row) => agentIds.includes(row.agent.id), { onlyChanged: true })),
      // A row that loses its figures (its agent stopped) is refreshed too; one whose figures read the same is not
      // (100 idle agents sampled every 2 s would keep the view busy, and hold up a row that changed).
      gitiso.onDidChangeStats(() => this.refreshRows((row) => row.showsFigures || gitiso.stats.current.has(row.agent.id), { onlyChanged: true })),
    ];
  }

  get refreshCounts(): TreeRefreshCounts {
    return { full: this.fullRefreshes, rows: this.rowRefreshes };
  }

  /** What the view last got for the root: how long a complete tree takes, and how soon a row follows the engine. */
  get lastRender(): TreeRender | undefined {
    return this.render;
  }

  /** When the view first read the root, whatever it held (how soon VS Code asks at all). */
  get firstRead(): TreeRender | undefined {
    return this.firstRender;
  }

  /** When the view last took the agent's row, and the agent it showed. */
  lastRowRender(agentId: string): { readonly at: number; readonly agent: Agent } | undefined {
    return this.rowRenders.get(agentId);
  }

  getTreeItem(item: AgentsTreeNode): AgentsTreeNode {
    if (item instanceof AgentTreeItem) {
      this.rowRenders.set(item.agent.id, { at: performance.now(), agent: item.agent });
    }
    return item;
  }

  getChildren(parent?: AgentsTreeNode): AgentsTreeNode[] | Promise<AgentsTreeNode[]> {
    if (parent instanceof AgentTreeItem || parent instanceof ChangesTreeItem) {
      this.opened.fire(parent);
    }
    if (parent instanceof AgentTreeItem) {
      const forwards: AgentsTreeNode[] = this.forwardItems(parent.agent.id);
      return isRunning(parent.agent) ? [...forwards, this.changesNodeOf(parent.agent)] : forwards;
    }
    if (parent instanceof ChangesTreeItem) {
      return this.changedFiles(parent.agent.id);
    }
    if (parent instanceof EngineTreeItem) {
      const { model } = this.gitiso;
      const rows: AgentsTreeNode[] = model.agentsOn(parent.engineName).map((agent) => this.rowOf(agent));
      return [...rows, ...model.unreachableOn(parent.engineName).map((agent) => new UnreachableAgentTreeItem(agent, parent.engineName))];
    }
    if (parent) {
      return [];
    }
    const rows = this.agentItems();
    this.shown = rows.map((row) => row.agent.id);
    rows.forEach((row) => this.drawn.set(row.agent.id, this.drawnOf(row.agent)));
    this.render = { at: performance.now(), agents: rows.map((row) => row.agent), listed: this.gitiso.model.engineStatus.kind !== 'unknown' };
    this.firstRender ??= this.render;
    if (this.render.listed) {
      this.more.firstTree?.markShown();
    }
    return this.grouped ? this.engineItems() : rows;
  }

  /** Agents group under their engines when there is more than one. */
  private get grouped(): boolean {
    return this.gitiso.engines.length > 1;
  }

  /** The engines' rows, each showing what it shows now (the engine's memory is asked once, and its row redrawn when it comes). */
  engineItems(): EngineTreeItem[] {
    return this.gitiso.engines.map((engine) => {
      const text = this.engineTextOf(engine.name);
      let row = this.engineRows.get(engine.name);
      if (row) {
        row.update(text);
      } else {
        row = new EngineTreeItem(engine.name, text);
        this.engineRows.set(engine.name, row);
      }
      this.engineLooks.set(engine.name, JSON.stringify(text));
      if (!this.engineMemory.has(engine.name) && this.gitiso.model.statusOf(engine.name).kind === 'connected') {
        this.engineMemory.set(engine.name, 0);
        engine.core.engine.capacity().then(
          ({ memoryBytes }) => {
            this.engineMemory.set(engine.name, memoryBytes);
            this.refreshEngineRows();
          },
          () => this.engineMemory.delete(engine.name),
        );
      }
      return row;
    });
  }

  private engineTextOf(name: string): ReturnType<typeof engineRowText> {
    const { model } = this.gitiso;
    const parts = this.gitiso.engineNamed(name);
    return engineRowText({
      name,
      address: parts?.core.engine.address ?? '',
      status: model.statusOf(name),
      agents: model.agentsOn(name),
      unreachable: model.unreachableOn(name).length,
      totalBytes: this.engineMemory.get(name) || undefined,
    });
  }

  /** Redraws the engine rows whose text changed (with their agents beneath them). */
  private refreshEngineRows(): boolean {
    if (!this.grouped) {
      return false;
    }
    const changed = [...this.engineRows.values()].filter((row) => {
      const text = this.engineTextOf(row.engineName);
      const look = JSON.stringify(text);
      if (this.engineLooks.get(row.engineName) === look) {
        return false;
      }
      this.engineLooks.set(row.engineName, look);
      row.update(text);
      return true;
    });
    if (changed.length > 0) {
      this.changed.fire(changed);
    }
    return changed.length > 0;
  }

  getParent(node: AgentsTreeNode): AgentsTreeNode | undefined {
    if (node instanceof AgentTreeItem || node instanceof UnreachableAgentTreeItem) {
      const name = node instanceof UnreachableAgentTreeItem ? node.engineName : this.gitiso.model.engineOf(node.agent.id);
      return this.grouped && name !== undefined ? this.engineRows.get(name) : undefined;
    }
    if (node instanceof ForwardTreeItem) {
      return this.rows.get(node.forward.agentId);
    }
    if (node instanceof ChangesTreeItem) {
      return this.rows.get(node.agent.id);
    }
    if (node instanceof ChangedFileTreeItem) {
      return this.changesNodes.get(node.agentId);
    }
    return undefined;
  }

  /** Agent rows (the root of the tree; tests and the API read them too). */
  agentItems(): AgentTreeItem[] {
    const agents = this.gitiso.model.agents;
    const ids = new Set(agents.map((agent) => agent.id));
    for (const id of [...this.rows.keys()].filter((id) => !ids.has(id))) {
      this.rows.delete(id);
      this.changesNodes.delete(id);
      this.expansions.delete(id);
      this.drawn.delete(id);
      this.rowRenders.delete(id);
    }
    this.changes.forgetAllBut(ids);
    return agents.map((agent) => this.rowOf(agent));
  }

  forwardItems(agentId: string): ForwardTreeItem[] {
    return this.gitiso.forwards(agentId).map((forward) => new ForwardTreeItem(forward));
  }

  /** The files under an agent's Changes node, loaded when none were yet; a failure becomes a line in the tree, not a notification. */
  async changedFiles(agentId: string): Promise<(ChangedFileTreeItem | ChangesMessageItem)[]> {
    try {
      const changes = this.changes.get(agentId) ?? (await this.changes.load(agentId));
      if (changes.files.length === 0) {
        return [new ChangesMessageItem(agentId, 'no changes', false)];
      }
      return changes.files.map((file) => new ChangedFileTreeItem(agentId, file, changes));
    } catch (error) {
      return [new ChangesMessageItem(agentId, `could not read the changes: ${describeCause(error)}`, true)];
    }
  }

  /** The Changes node of a running agent the tree shows (to reveal it). */
  changesItem(agentId: string): ChangesTreeItem | undefined {
    const agent = this.agentItems().find((row) => row.agent.id === agentId)?.agent;
    return agent && isRunning(agent) ? this.changesNodeOf(agent) : undefined;
  }

  private changesNodeOf(agent: Agent): ChangesTreeItem {
    let node = this.changesNodes.get(agent.id);
    if (!node) {
      node = new ChangesTreeItem(agent);
      this.changesNodes.set(agent.id, node);
    }
    node.update(agent, this.changes.get(agent.id));
    return node;
  }

  /** New changes of one agent: only its Changes node is redrawn. */
  private refreshChanges(agentId: string): void {
    const node = this.changesNodes.get(agentId);
    if (node) {
      node.update(node.agent, this.changes.get(agentId));
      this.changed.fire([node]);
    }
  }

  /** The agent's row, the same object as before when it had one, showing the agent now. */
  private rowOf(agent: Agent): AgentTreeItem {
    const state = this.rowStateOf(agent);
    const row = this.rows.get(agent.id);
    if (row) {
      row.update(state);
      return row;
    }
    const created = new AgentTreeItem(state);
    this.rows.set(agent.id, created);
    return created;
  }

  private rowStateOf(agent: Agent): AgentRowState {
    const { model, stats } = this.gitiso;
    return { agent, progress: model.progressOf(agent.id), forwardCount: this.gitiso.forwards(agent.id).length, stats: stats.current.get(agent.id), devRunning: this.devStates.isRunning(agent.id), expanded: this.expansions.get(agent.id), session: this.more.sessions.stateOf(agent.id), usage: this.gitiso.usage.of(agent.id) };
  }

  /** The user opened or closed a row (the view tells): a redrawn row keeps it so. */
  noteExpansion(node: AgentsTreeNode, expanded: boolean): void {
    if (node instanceof AgentTreeItem) {
      this.expansions.set(node.agent.id, expanded);
      node.update(this.rowStateOf(node.agent));
    }
  }

  /**
   * The same agents in the same order (one of 100 stopped, a create's
   * progress): only the rows that show something new are redrawn, which the
   * view does without asking for the tree again. Anything else: the whole tree.
   */
  private refreshAgents(): void {
    const agents = this.gitiso.model.agents;
    if (this.render === undefined || agents.length !== this.shown.length || agents.some((agent, index) => agent.id !== this.shown[index])) {
      this.refreshAll();
      return;
    }
    // An engine that stopped answering or came back (its agents left or came), or new figures on its row: it is redrawn with its agents.
    this.refreshEngineRows();
    const changed = agents.flatMap((agent) => {
      const row = this.rows.get(agent.id);
      const drawn = this.drawnOf(agent);
      if (!row || this.drawn.get(agent.id) === drawn) {
        return [];
      }
      this.drawn.set(agent.id, drawn);
      row.update(this.rowStateOf(agent));
      return [row];
    });
    if (changed.length > 0) {
      this.rowRefreshes++;
      this.changed.fire(changed);
    }
  }

  /** What a change of agents may change in a row: its agent and its create's progress (stats, forwards and dev servers have their own refreshes). */
  private drawnOf(agent: Agent): string {
    return JSON.stringify([agent, this.gitiso.model.progressOf(agent.id)]);
  }

  private refreshAll(): void {
    this.fullRefreshes++;
    this.changed.fire(undefined);
  }

  /**
   * Updates the rows the view was given that `affected` picks, and refreshes those (with `onlyChanged`, only those
   * that show something new: a forward's row is refreshed anyway, for the children beneath it).
   */
  private refreshRows(affected: (row: AgentTreeItem) => boolean, options: { readonly onlyChanged?: boolean } = {}): void {
    const rows = [...this.rows.values()].filter(affected);
    if (rows.length === 0) {
      return;
    }
    const agents = new Map(this.gitiso.model.agents.map((agent) => [agent.id, agent]));
    const redrawn = rows.filter((row) => {
      const before = options.onlyChanged ? row.look : undefined;
      row.update(this.rowStateOf(agents.get(row.agent.id) ?? row.agent));
      return before === undefined || row.look !== before;
    });
    if (redrawn.length > 0) {
      this.rowRefreshes++;
      this.changed.fire(redrawn);
    }
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.changed.dispose();
    this.opened.dispose();
  }
}
