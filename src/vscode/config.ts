import * as vscode from 'vscode';
import { CREATE_STRATEGIES, type CreateStrategy } from '../core/agent';
import { DEFAULT_INSTALL_TIMEOUT_SECONDS, defaultImage } from '../core/defaults';
import type { SetupSettings } from '../core/setup/repoSetup';
import { DEFAULT_LIMITS, parseMemory, type AgentLimits } from '../core/limits/agentLimits';

export interface Settings {
  readonly image: string;
  readonly dockerHost: string;
  readonly defaultBaseBranch: string;
  readonly network: string;
  readonly createConcurrency: number;
  readonly createStrategy: CreateStrategy;
  readonly cloneDepth: number;
  readonly cloneFilter: string;
  readonly storagePath: string;
  readonly setup: SetupSettings;
  readonly limits: Partial<AgentLimits>;
  readonly installTimeoutSeconds: number;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('gitiso');
  return {
    image: config.get<string>('image') || defaultImage(),
    dockerHost: config.get<string>('dockerHost') ?? '',
    defaultBaseBranch: config.get<string>('defaultBaseBranch') ?? '',
    network: config.get<string>('network') ?? '',
    createConcurrency: Math.max(1, config.get<number>('createConcurrency') ?? 3),
    createStrategy: (CREATE_STRATEGIES as readonly string[]).includes(config.get<string>('createStrategy') ?? '') ? (config.get<string>('createStrategy') as CreateStrategy) : 'snapshot',
    cloneDepth: config.get<number>('cloneDepth') ?? 0,
    cloneFilter: config.get<string>('cloneFilter') ?? '',
    storagePath: config.get<string>('storagePath') ?? '',
    setup: {
      // An unset install is left to detection; only an explicit value (even "") overrides it.
      install: config.inspect<string>('setup.install')?.workspaceValue ?? config.inspect<string>('setup.install')?.globalValue,
      dev: config.get<string>('devServer.command') || undefined,
      port: config.get<number>('devServer.port') ?? 3000,
      copy: config.get<string[]>('setup.copyFiles') ?? [],
    },
    limits: {
      memoryBytes: memorySetting(config.get<string>('limits.memory')),
      cpus: config.get<number>('limits.cpus') ?? 2,
      pids: config.get<number>('limits.pids') ?? 512,
    },
    installTimeoutSeconds: Math.max(1, config.get<number>('setup.installTimeoutSeconds') ?? DEFAULT_INSTALL_TIMEOUT_SECONDS),
  };
}

/** Settings the engine connection and the agent service are built from. */
const SERVICE_SETTINGS = ['dockerHost', 'network', 'image', 'createStrategy', 'cloneDepth', 'cloneFilter', 'storagePath', 'setup', 'devServer', 'limits'];

export function affectsService(event: vscode.ConfigurationChangeEvent): boolean {
  return SERVICE_SETTINGS.some((name) => event.affectsConfiguration(`gitiso.${name}`));
}

/** A malformed memory setting falls back to the default rather than breaking every create (the settings UI flags it). */
function memorySetting(value: string | undefined): number {
  try {
    return value ? parseMemory(value) : DEFAULT_LIMITS.memoryBytes;
  } catch {
    return DEFAULT_LIMITS.memoryBytes;
  }
}
