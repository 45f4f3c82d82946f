import * as vscode from 'vscode';
import { InvalidInputError, describeCause } from '../../core/errors';
import { joinUrl, normalizePath, parseFromWebview, parsePreviewState, type PreviewState, type ToWebview } from '../../webview/protocol/previewMessages';
import type { FrameTarget } from '../../webview/protocol/previewOrigin';
import { makeNonce, mediaUri, webviewResourceRoots, webviewScriptUri } from '../webview/webviewHtml';
import { PREVIEW_ADDRESS_SETTING, browserAddress, openInBrowser } from './previewAddress';
import { previewHtml } from './previewHtml';
import { showErrorWithSettings } from '../showError';

export const PREVIEW_VIEW_TYPE = 'gitiso.preview';

export interface OpenPreview {
  readonly agentId: string;
  readonly containerPort: number;
  /** What the iframe shows: the browser's address of the forward plus the current path; undefined while the forward is gone. */
  readonly url: string | undefined;
  /** `forwardGone`: the agent's forward of the port closed; the panel shows nothing of it and offers to forward again. */
  readonly state: 'showing' | 'forwardGone';
}

/** The agents' forwards, as the panels need them: always looked up by (agent, port), never by a remembered host port. */
export interface PreviewForwards {
  /** The forward's local URL (http://127.0.0.1:PORT), forwarding the port when it is not. Throws when the agent is gone. */
  open(agentId: string, containerPort: number): Promise<string>;
  /** The forward's local URL as it is now; never forwards. */
  current(agentId: string, containerPort: number): string | undefined;
  /** With the agent's id, when one of its forwards opened or closed. */
  onDidChange(listener: (agentId: string) => void): vscode.Disposable;
}

export interface PreviewPanelsOptions {
  readonly extensionUri: vscode.Uri;
  readonly forwards: PreviewForwards;
  readonly log: vscode.LogOutputChannel;
}

interface Entry {
  readonly agentId: string;
  readonly containerPort: number;
  readonly panel: vscode.WebviewPanel;
  readonly subscriptions: vscode.Disposable[];
  /** Undefined while the agent's forward of the port is gone. */
  target: FrameTarget | undefined;
  /** The last path the toolbar went to; links followed inside the cross-origin page are not seen. */
  path: string;
  /** Counts look-ups, so that only the latest one's answer is applied. */
  lookups: number;
}

/**
 * Preview panels of agents' forwarded dev-server ports: one per (agent, port),
 * side by side when there are several, restored after a restart by the
 * serializer. A panel belongs to its agent and port: it follows their forward
 * as it opens, moves or closes, so it never shows what now answers at an old
 * host port (another agent's page, after that port was given to it).
 */
export class PreviewPanels implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly registrations: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[];
  private readonly extensionUri: vscode.Uri;
  private readonly forwards: PreviewForwards;
  private readonly log: vscode.LogOutputChannel;
  private disposed = false;

  constructor(options: PreviewPanelsOptions) {
    this.extensionUri = options.extensionUri;
    this.forwards = options.forwards;
    this.log = options.log;
    this.subscriptions = [
      this.forwards.onDidChange((agentId) => this.entriesOf(agentId).forEach((entry) => void this.follow(entry))),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(PREVIEW_ADDRESS_SETTING)) {
          this.entries.forEach((entry) => void this.follow(entry));
        }
      }),
    ];
  }

  /** Shows the agent's port: reveals its panel (going to `path` when given), or opens one. */
  async open(agentId: string, containerPort: number, path?: string): Promise<void> {
    const wanted = path === undefined ? undefined : normalizePath(path);
    if (path !== undefined && wanted === undefined) {
      throw new InvalidInputError(`'${path}' is not a path a preview can go to: give one like /about`);
    }
    const existing = this.entries.get(keyOf(agentId, containerPort));
    if (existing) {
      await this.reveal(existing, wanted);
      return;
    }
    const target = await browserAddress(await this.forwards.open(agentId, containerPort));
    // Another open() or a restore may have made the panel while we waited.
    const raced = this.entries.get(keyOf(agentId, containerPort));
    if (raced) {
      await this.reveal(raced, wanted);
      return;
    }
    if (this.disposed) {
      return;
    }
    // The first preview takes the active column; the next ones go beside, so they sit side by side.
    const column = this.entries.size > 0 ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    const panel = vscode.window.createWebviewPanel(PREVIEW_VIEW_TYPE, titleOf(agentId, containerPort), column, {
      ...this.webviewOptions(),
      retainContextWhenHidden: true,
    });
    this.adopt(panel, { agentId, containerPort, path: wanted ?? '/' }, target);
    this.log.info(`preview of ${agentId}:${containerPort} opened at ${target.baseUrl}${target.ownOrigin ? '' : ' (sandboxed: the address is the workbench\'s origin)'}`);
  }

  /** Forwards the port of a panel whose forward is gone, and shows it again (the panel's Forward Again button). */
  async forwardAgain(agentId: string, containerPort: number): Promise<void> {
    const entry = this.entries.get(keyOf(agentId, containerPort));
    if (!entry) {
      return;
    }
    await this.forwards.open(agentId, containerPort);
    await this.follow(entry);
  }

  /** Reloads every panel of the agent, as when its dev server restarted. */
  reload(agentId: string): void {
    for (const entry of this.entriesOf(agentId)) {
      this.post(entry, { type: 'reload' });
    }
  }

  /** Closes the agent's panels; says `message` once when there was one to close. */
  closeFor(agentId: string, message: string): void {
    const closing = this.entriesOf(agentId);
    for (const entry of closing) {
      entry.panel.dispose();
      this.drop(entry);
    }
    if (closing.length > 0) {
      this.log.info(`closed ${closing.length} preview(s) of ${agentId}`);
      void vscode.window.showInformationMessage(message);
    }
  }

  panelsOf(agentId: string): OpenPreview[] {
    return this.entriesOf(agentId).map(describe);
  }

  openPanels(): OpenPreview[] {
    return [...this.entries.values()].map(describe);
  }

  /** Registers the serializer that brings previews back after a restart (call during activation). */
  register(): vscode.Disposable {
    const registration = vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state) => this.restore(panel, state),
    });
    this.registrations.push(registration);
    return registration;
  }

  private async restore(panel: vscode.WebviewPanel, raw: unknown): Promise<void> {
    const state = parsePreviewState(raw);
    if (!state || this.disposed) {
      panel.dispose();
      return;
    }
    let target: FrameTarget;
    try {
      // A new window has no forwards: the restored preview forwards its port again.
      target = await browserAddress(await this.forwards.open(state.agentId, state.containerPort));
    } catch (error) {
      this.log.info(`preview of ${state.agentId}:${state.containerPort} not restored: ${describeCause(error)}`);
      panel.dispose();
      void vscode.window.showInformationMessage(`gitiso: agent '${state.agentId}' is gone; its preview of port ${state.containerPort} is closed.`);
      return;
    }
    if (this.disposed || this.entries.has(keyOf(state.agentId, state.containerPort))) {
      panel.dispose(); // an open() won the race: keep one panel per port
      return;
    }
    panel.webview.options = this.webviewOptions();
    panel.title = titleOf(state.agentId, state.containerPort);
    this.adopt(panel, state, target);
    this.log.info(`preview of ${state.agentId}:${state.containerPort} restored at ${target.baseUrl}`);
  }

  private adopt(panel: vscode.WebviewPanel, state: PreviewState, target: FrameTarget): void {
    panel.iconPath = mediaUri(this.extensionUri, 'preview.svg');
    const entry: Entry = { agentId: state.agentId, containerPort: state.containerPort, path: state.path, target, panel, subscriptions: [], lookups: 0 };
    entry.subscriptions.push(
      panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(entry, message)),
      panel.onDidDispose(() => this.drop(entry)),
    );
    this.entries.set(keyOf(state.agentId, state.containerPort), entry);
    this.render(entry);
  }

  private async reveal(entry: Entry, path: string | undefined): Promise<void> {
    entry.panel.reveal();
    if (path !== undefined) {
      entry.path = path;
    }
    try {
      // Opening a preview forwards its port when it is not (any more), as a first open does.
      await this.forwards.open(entry.agentId, entry.containerPort);
      if (await this.follow(entry)) {
        return; // re-rendered at entry.path
      }
    } catch (error) {
      this.log.warn(`preview of ${entry.agentId}:${entry.containerPort}: ${describeCause(error)}`);
    }
    if (path !== undefined) {
      this.post(entry, { type: 'navigate', path });
    }
  }

  /**
   * Looks up the agent's forward of the panel's port as it is now, and shows
   * that: the same page, a new address (re-rendered: the CSP names the old
   * one), or the forward-gone state. True when the page was rendered again.
   */
  private async follow(entry: Entry): Promise<boolean> {
    const lookup = ++entry.lookups;
    const local = this.forwards.current(entry.agentId, entry.containerPort);
    let target: FrameTarget | undefined;
    if (local !== undefined) {
      try {
        target = await browserAddress(local);
      } catch (error) {
        this.log.warn(`preview of ${entry.agentId}:${entry.containerPort}: ${describeCause(error)}`);
      }
    }
    if (lookup !== entry.lookups || !this.isLive(entry) || sameTarget(target, entry.target)) {
      return false;
    }
    entry.target = target;
    this.log.info(`preview of ${entry.agentId}:${entry.containerPort} ${target ? `now at ${target.baseUrl}` : 'has no forward any more'}`);
    this.render(entry);
    return true;
  }

  private render(entry: Entry): void {
    const webview = entry.panel.webview;
    entry.panel.webview.html = previewHtml({
      webview,
      scriptUri: webview.asWebviewUri(webviewScriptUri(this.extensionUri, 'preview.js')),
      styleUri: webview.asWebviewUri(mediaUri(this.extensionUri, 'preview.css')),
      target: entry.target,
      nonce: makeNonce(),
      state: { agentId: entry.agentId, containerPort: entry.containerPort, path: entry.path },
    });
  }

  private onMessage(entry: Entry, raw: unknown): void {
    const message = parseFromWebview(raw);
    if (!message) {
      return; // not one of ours: ignored
    }
    switch (message.type) {
      case 'ready':
        this.log.trace(`preview of ${entry.agentId}:${entry.containerPort} ready`);
        return;
      case 'navigated':
        entry.path = message.path;
        return;
      case 'openExternal':
        if (entry.target) {
          openInBrowser(entry.target, entry.path).then(undefined, (error: unknown) => this.fail(`could not open ${entry.agentId}:${entry.containerPort} in the browser`, error));
        }
        return;
      case 'forwardAgain':
        this.forwardAgain(entry.agentId, entry.containerPort).then(undefined, (error: unknown) => this.fail(`could not forward ${entry.agentId}:${entry.containerPort} again`, error));
        return;
    }
  }

  private fail(what: string, error: unknown): void {
    const message = `${what}: ${describeCause(error)}`;
    this.log.warn(message);
    void showErrorWithSettings(`gitiso: ${message}`);
  }

  private post(entry: Entry, message: ToWebview): void {
    // A panel closed while we awaited has a disposed webview, which throws.
    if (this.isLive(entry)) {
      void entry.panel.webview.postMessage(message);
    }
  }

  private isLive(entry: Entry): boolean {
    return this.entries.get(keyOf(entry.agentId, entry.containerPort)) === entry;
  }

  private webviewOptions(): vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: webviewResourceRoots(this.extensionUri) };
  }

  private entriesOf(agentId: string): Entry[] {
    return [...this.entries.values()].filter((entry) => entry.agentId === agentId);
  }

  /** Forgets a panel and its listeners; safe to call twice. */
  private drop(entry: Entry): void {
    const key = keyOf(entry.agentId, entry.containerPort);
    if (this.entries.get(key) === entry) {
      this.entries.delete(key);
    }
    for (const subscription of entry.subscriptions.splice(0)) {
      subscription.dispose();
    }
  }

  dispose(): void {
    this.disposed = true;
    for (const disposable of [...this.registrations.splice(0), ...this.subscriptions.splice(0)]) {
      disposable.dispose();
    }
    for (const entry of [...this.entries.values()]) {
      entry.panel.dispose();
      this.drop(entry);
    }
  }
}

function keyOf(agentId: string, containerPort: number): string {
  return `${agentId}:${containerPort}`; // unambiguous: the port has no ':'
}

function titleOf(agentId: string, containerPort: number): string {
  return `${agentId} :${containerPort}`;
}

function sameTarget(a: FrameTarget | undefined, b: FrameTarget | undefined): boolean {
  return a?.baseUrl === b?.baseUrl && a?.ownOrigin === b?.ownOrigin;
}

function describe(entry: Entry): OpenPreview {
  return {
    agentId: entry.agentId,
    containerPort: entry.containerPort,
    url: entry.target && joinUrl(entry.target.baseUrl, entry.path),
    state: entry.target ? 'showing' : 'forwardGone',
  };
}
