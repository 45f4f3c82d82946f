import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { AgentApiAccess, agentIdsOnEvery, API_TOKENS_FILE } from '../core/apiProxy/agentApiAccess';
import { extraAuthorities } from '../core/apiProxy/extraAuthorities';
import type { CodingAgentApi } from '../core/codingAgents/codingAgentPreset';
import type { SessionWatch } from '../core/codingAgents/sessionWatch';
import { describeCause } from '../core/errors';
import { defaultStorageDir } from '../core/storage';
import type { Gitiso } from './composition';
import { readCodingAgents, readSettings } from './config';

/** Where a key is kept in VS Code's SecretStorage: by the API and the variable its tool reads it from. */
export function secretKeyOf(api: Pick<CodingAgentApi, 'upstream' | 'keyEnv'>): string {
  return `gitiso.apiKey:${api.keyEnv}:${api.upstream}`;
}

/**
 * This window's API access for coding agents: the host's key proxy, with keys
 * from VS Code's SecretStorage (never a setting, a file of the workspace or an
 * agent), built on first use from the settings and again when they change,
 * and each removed agent's token revoked.
 */
export class WindowApiAccess implements vscode.Disposable {
  private current: AgentApiAccess | undefined;
  private known = new Set<string>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly gitiso: Gitiso,
    private readonly log: vscode.LogOutputChannel,
    sessions: Pick<SessionWatch, 'onDidChange' | 'stateOf'>,
  ) {
    this.subscriptions = [
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (['gitiso.codingAgents', 'gitiso.apiProxy.port', 'gitiso.dockerHost', 'gitiso.engines', 'gitiso.network', 'gitiso.storagePath'].some((name) => event.affectsConfiguration(name))) {
          void this.current?.close();
          this.current = undefined;
        }
      }),
      gitiso.onDidChangeAgents(() => this.revokeGone()),
      // A session that outlived the window that started it (a reload) calls its API through this one now.
      // Asked again as sessions change: another process (a CLI task) that served one may have ended since.
      sessions.onDidChange((agentIds) => {
        const alive = agentIds.filter((id) => {
          const activity = sessions.stateOf(id)?.activity;
          return activity !== undefined && activity !== 'finished';
        });
        if (alive.length > 0 && existsSync(this.tokensFile)) {
          void this.resume(alive);
        }
      }),
    ];
  }

  /** Quiet but for the log: the sessions' own windows (or tasks) may serve them. */
  private async resume(agentIds: readonly string[]): Promise<void> {
    try {
      await this.access.resume(agentIds);
    } catch (error) {
      this.log.warn(`API proxy: the running sessions of ${agentIds.join(', ')} are not served from this window: ${describeCause(error)}`);
    }
  }

  private get tokensFile(): string {
    return join(readSettings().storagePath || defaultStorageDir(), API_TOKENS_FILE);
  }

  /** The access New Task hands its agents (the proxy starts with the first grant). */
  get access(): AgentApiAccess {
    this.current ??= new AgentApiAccess({
      // The proxy listens where the local engine's agents reach it; an agent on another engine gets a relay in its container.
      engine: this.gitiso.local.core.engine,
      network: this.gitiso.local.core.network,
      engineOf: (agentId) => this.gitiso.on(agentId).engine,
      apis: readCodingAgents().presets.flatMap((preset) => (preset.api ? [preset.api] : [])),
      keyFor: async (api) => this.secrets.get(secretKeyOf(api)),
      // A company's authority, as Node would take it (NODE_EXTRA_CA_CERTS) or as the CLI does (GITISO_API_CA).
      ca: extraAuthorities(),
      port: vscode.workspace.getConfiguration('gitiso').inspect<number>('apiProxy.port')?.globalValue,
      tokensFile: this.tokensFile,
      usage: this.gitiso.apiUsage,
      agentIds: () => agentIdsOnEvery(this.gitiso.engines.map((engine) => engine.core)),
      log: this.log,
    });
    return this.current;
  }

  private revokeGone(): void {
    const now = new Set(this.gitiso.model.agents.map((agent) => agent.id));
    for (const id of this.known) {
      if (!now.has(id)) {
        this.current?.revoke(id);
      }
    }
    this.known = now;
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    void this.current?.close();
  }
}

/** Set API Key…: one of the presets' APIs, and its key, kept in SecretStorage; an empty key removes it. */
export async function setApiKey(secrets: vscode.SecretStorage): Promise<void> {
  const apis = new Map<string, CodingAgentApi & { readonly presets: string[] }>();
  for (const preset of readCodingAgents().presets) {
    if (preset.api) {
      const known = apis.get(secretKeyOf(preset.api));
      apis.set(secretKeyOf(preset.api), { ...preset.api, presets: [...(known?.presets ?? []), preset.name] });
    }
  }
  const picked = await vscode.window.showQuickPick(
    [...apis.entries()].map(([secret, api]) => ({ label: new URL(api.upstream).host, description: api.keyEnv, detail: `for ${api.presets.join(', ')}`, secret })),
    { title: 'Set API Key', placeHolder: 'The API whose key gitiso keeps for your coding agents (agents get a token of their own, never the key)' },
  );
  if (!picked) {
    return;
  }
  const key = await vscode.window.showInputBox({ title: `Set API Key: ${picked.label}`, prompt: `The key (${picked.description}); kept in VS Code's secret storage on this machine. Empty removes it.`, password: true, ignoreFocusOut: true });
  if (key === undefined) {
    return;
  }
  if (key.trim()) {
    await secrets.store(picked.secret, key.trim());
    void vscode.window.showInformationMessage(`gitiso keeps the key for ${picked.label}: coding agents reach it through the key proxy only.`);
  } else {
    await secrets.delete(picked.secret);
    void vscode.window.showInformationMessage(`gitiso no longer keeps a key for ${picked.label}.`);
  }
}
