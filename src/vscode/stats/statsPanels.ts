import * as vscode from 'vscode';
import { usageLine } from '../../core/apiProxy/usageText';
import type { StatsMessage } from '../../webview/protocol/statsMessages';
import type { Gitiso } from '../composition';
import { cspMeta, escapeAttr, makeNonce, mediaUri, scriptTag, styleTag, webviewResourceRoots, webviewScriptUri } from '../webview/webviewHtml';

export const STATS_VIEW_TYPE = 'gitiso.stats';

/**
 * Show Stats: one panel per agent with a live chart of its CPU and memory over
 * the last minutes, fed from the sampler's history. While a panel is visible
 * the window keeps sampling (see `anyVisible`).
 */
export class StatsPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  private readonly subscriptions: vscode.Disposable[];
  private readonly visibility = new vscode.EventEmitter<void>();
  /** Fires when a panel opens, closes, shows or hides. */
  readonly onDidChangeVisibility = this.visibility.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly gitiso: Gitiso) {
    this.subscriptions = [
      // The histories change only with a sample (or a new sampler after a reconnect, which fires this too).
      gitiso.onDidChangeStats(() => this.pushAll()),
      // Usage changes while a task runs, whether or not anything samples.
      gitiso.onDidChangeUsage((agentIds) => this.pushAll(agentIds)),
    ];
  }

  get anyVisible(): boolean {
    return [...this.panels.values()].some((panel) => panel.visible);
  }

  /** The agents whose panels are open (tests and the API). */
  openFor(): string[] {
    return [...this.panels.keys()];
  }

  show(agentId: string): vscode.WebviewPanel {
    const existing = this.panels.get(agentId);
    if (existing) {
      existing.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(STATS_VIEW_TYPE, `Stats: ${agentId}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: webviewResourceRoots(this.extensionUri),
    });
    panel.iconPath = mediaUri(this.extensionUri, 'stats.svg');
    const webview = panel.webview;
    const nonce = makeNonce();
    webview.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
${cspMeta({ webview, nonce })}
${styleTag(webview.asWebviewUri(mediaUri(this.extensionUri, 'stats.css')))}
<title>${escapeAttr(`Stats: ${agentId}`)}</title>
</head>
<body>
<h1>${escapeAttr(agentId)}</h1>
<section aria-label="CPU"><h2>CPU <span id="cpu-now"></span></h2><svg id="cpu" class="chart" viewBox="0 0 300 100" preserveAspectRatio="none" role="img" aria-label="CPU over the last minutes"></svg></section>
<section aria-label="Memory"><h2>Memory <span id="memory-now"></span></h2><svg id="memory" class="chart" viewBox="0 0 300 100" preserveAspectRatio="none" role="img" aria-label="Memory over the last minutes"></svg></section>
<p id="api" aria-label="API usage" hidden></p>
<table id="facts" aria-label="Current figures"></table>
<p id="empty" class="empty">Waiting for the first samples…</p>
${scriptTag(webview.asWebviewUri(webviewScriptUri(this.extensionUri, 'stats.js')), nonce)}
</body>
</html>`;
    this.panels.set(agentId, panel);
    panel.onDidChangeViewState(() => this.visibility.fire());
    panel.onDidDispose(() => {
      this.panels.delete(agentId);
      this.visibility.fire();
    });
    this.gitiso.stats.measureDiskSoon();
    this.visibility.fire();
    this.push(agentId, panel);
    return panel;
  }

  /** Closes an agent's panel (its agent stopped or went: its chart would only freeze). */
  closeFor(agentId: string): void {
    this.panels.get(agentId)?.dispose();
  }

  /** `agentIds`: only those agents' panels (all when absent). */
  private pushAll(agentIds?: readonly string[]): void {
    for (const [agentId, panel] of this.panels) {
      if (!agentIds || agentIds.includes(agentId)) {
        this.push(agentId, panel);
      }
    }
  }

  private push(agentId: string, panel: vscode.WebviewPanel): void {
    const apiUsage = usageLine(this.gitiso.usage.of(agentId));
    const message: StatsMessage = { type: 'samples', samples: this.gitiso.stats.history(agentId), ...(apiUsage ? { apiUsage } : {}) };
    void panel.webview.postMessage(message);
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    for (const panel of this.panels.values()) {
      panel.dispose();
    }
    this.visibility.dispose();
  }
}
