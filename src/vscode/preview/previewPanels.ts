import * as vscode from 'vscode';
import { GitisoError, InvalidInputError, describeCause } from '../../core/errors';
import { joinUrl, normalizePath, parseFromWebview, parsePreviewState, type PreviewState, type ToWebview } from '../../webview/protocol/previewMessages';
import { makeNonce, mediaUri, webviewResourceRoots, webviewScriptUri } from '../webview/webviewHtml';
import { previewHtml } from './previewHtml';

export const PREVIEW_VIEW_TYPE = 'gitiso.preview';

export interface OpenPreview {
  readonly agentId: string;
  readonly containerPort: number;
  /** What the iframe shows: the external base URL plus the current path. */
  readonly url: string;
}

/** Resolves an agent's port to its local forward, e.g. http://127.0.0.1:49152. Throws when the agent is gone. */
export type ResolveForward = (agentId: string, containerPort: number) => Promise<string>;

interface Target {
  /** The forward as the client sees it (asExternalUri), without a trailing '/'. */
  readonly baseUrl: string;
  readonly origin: string;
}

interface Entry {
  readonly agentId: string;
  readonly containerPort: number;
  readonly panel: vscode.WebviewPanel;
  readonly subscriptions: vscode.Disposable[];
  target: Target;
  /** The last path the toolbar went to; links followed inside the cross-origin page are not seen. */
  path: string;
}

/**
 * Preview panels of agents' forwarded dev-server ports: one per (agent, port),
 * side by side when there are several, restored after a restart by the serializer.
 */
export class PreviewPanels implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly registrations: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly resolve: ResolveForward,
    private readonly log: vscode.LogOutputChannel,
  ) {}

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
    const target = await this.target(agentId, containerPort);
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
    this.log.info(`preview of ${agentId}:${containerPort} opened at ${target.baseUrl}`);
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
    let target: Target;
    try {
      target = await this.target(state.agentId, state.containerPort);
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

  private adopt(panel: vscode.WebviewPanel, state: PreviewState, target: Target): void {
    panel.iconPath = mediaUri(this.extensionUri, 'preview.svg');
    const entry: Entry = { agentId: state.agentId, containerPort: state.containerPort, path: state.path, target, panel, subscriptions: [] };
    entry.subscriptions.push(
      panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(entry, message)),
      panel.onDidDispose(() => this.drop(entry)),
    );
    this.entries.set(keyOf(state.agentId, state.containerPort), entry);
    this.render(entry);
  }

  private async reveal(entry: Entry, path: string | undefined): Promise<void> {
    entry.panel.reveal();
    try {
      // The forward may have moved since (a new host port after the agent restarted).
      const target = await this.target(entry.agentId, entry.containerPort);
      if (target.baseUrl !== entry.target.baseUrl) {
        this.retarget(entry, target, path);
        return;
      }
    } catch (error) {
      this.log.warn(`preview of ${entry.agentId}:${entry.containerPort}: ${describeCause(error)}`);
    }
    if (path !== undefined) {
      this.post(entry, { type: 'navigate', path });
    }
  }

  private retarget(entry: Entry, target: Target, path: string | undefined): void {
    if (!this.isLive(entry)) {
      return;
    }
    const sameOrigin = target.origin === entry.target.origin;
    entry.target = target;
    entry.path = path ?? entry.path;
    if (sameOrigin) {
      this.post(entry, { type: 'setUrl', url: target.baseUrl });
      if (path !== undefined) {
        this.post(entry, { type: 'navigate', path });
      }
    } else {
      this.render(entry); // the CSP names the old origin: only a new page can load the new one
    }
  }

  private async target(agentId: string, containerPort: number): Promise<Target> {
    const local = await this.resolve(agentId, containerPort);
    // In remote and web VS Code the client reaches 127.0.0.1 of the extension host only through this.
    const external = await vscode.env.asExternalUri(vscode.Uri.parse(local, true));
    const url = new URL(external.toString(true));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new GitisoError(`the forward of ${agentId}:${containerPort} is not an http URL: ${url.href}`);
    }
    return { baseUrl: url.href.replace(/\/+$/, ''), origin: url.origin };
  }

  private render(entry: Entry): void {
    const webview = entry.panel.webview;
    entry.panel.webview.html = previewHtml({
      webview,
      scriptUri: webview.asWebviewUri(webviewScriptUri(this.extensionUri, 'preview.js')),
      styleUri: webview.asWebviewUri(mediaUri(this.extensionUri, 'preview.css')),
      frameOrigin: entry.target.origin,
      baseUrl: entry.target.baseUrl,
      frameUrl: joinUrl(entry.target.baseUrl, entry.path),
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
      case 'openExternal': {
        const url = joinUrl(entry.target.baseUrl, entry.path);
        void vscode.env.openExternal(vscode.Uri.parse(url, true)).then(undefined, (error: unknown) =>
          this.log.warn(`could not open ${url}: ${describeCause(error)}`),
        );
        return;
      }
    }
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
    for (const registration of this.registrations.splice(0)) {
      registration.dispose();
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

function describe(entry: Entry): OpenPreview {
  return { agentId: entry.agentId, containerPort: entry.containerPort, url: joinUrl(entry.target.baseUrl, entry.path) };
}
