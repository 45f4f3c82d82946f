import * as vscode from 'vscode';
import { CREATE_STRATEGIES, type CreateStrategy } from '../core/agent';
import { DEFAULT_INSTALL_TIMEOUT_SECONDS, defaultImage } from '../core/defaults';
import type { SetupSettings } from '../core/setup/repoSetup';
import { codingAgentPresets, type CodingAgentPreset } from '../core/codingAgents/codingAgentPreset';
import { DEFAULT_LIMITS, parseMemory, type AgentLimits } from '../core/limits/agentLimits';

export interface Settings {
  readonly image: string;
  readonly dockerHost: string;
  /** The user's other engines (`gitiso.engines`), as written: engineEndpoints() checks them. */
  readonly engines: unknown;
  /** Whether the user's Docker contexts are engines too. */
  readonly dockerContexts: boolean;
  /** For ssh:// engines: a config file other than ~/.ssh/config. */
  readonly sshConfigFile: string;
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

/**
 * Settings that choose the engine, image, network, storage, strategy, limits
 * and the user's own setup (an install, files to copy) belong to the user:
 * package.json gives them `"scope": "machine"`, so VS Code keeps them out of
 * workspace settings, and they are read here from the user's value alone, so
 * a repository's .vscode/settings.json never chooses them.
 */
export const MACHINE_SETTINGS = ['image', 'dockerHost', 'engines', 'dockerContexts', 'sshConfigFile', 'network', 'storagePath', 'createStrategy', 'limits.memory', 'limits.cpus', 'limits.pids', 'setup.install', 'setup.copyFiles', 'codingAgents', 'apiProxy.port'] as const;

type MachineSetting = (typeof MACHINE_SETTINGS)[number];

/** A machine setting's user value (user or remote settings), else its default: never a workspace's. */
function userValue<T>(config: vscode.WorkspaceConfiguration, key: MachineSetting): T | undefined {
  const inspected = config.inspect<T>(key);
  return inspected?.globalValue ?? inspected?.defaultValue;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('gitiso');
  const strategy = userValue<string>(config, 'createStrategy') ?? '';
  return {
    image: userValue<string>(config, 'image') || defaultImage(),
    dockerHost: userValue<string>(config, 'dockerHost') ?? '',
    engines: userValue<unknown>(config, 'engines'),
    dockerContexts: userValue<boolean>(config, 'dockerContexts') ?? true,
    sshConfigFile: userValue<string>(config, 'sshConfigFile') ?? '',
    defaultBaseBranch: config.get<string>('defaultBaseBranch') ?? '',
    network: userValue<string>(config, 'network') ?? '',
    createConcurrency: Math.max(1, config.get<number>('createConcurrency') ?? 3),
    createStrategy: (CREATE_STRATEGIES as readonly string[]).includes(strategy) ? (strategy as CreateStrategy) : 'snapshot',
    cloneDepth: config.get<number>('cloneDepth') ?? 0,
    cloneFilter: config.get<string>('cloneFilter') ?? '',
    storagePath: userValue<string>(config, 'storagePath') ?? '',
    setup: {
      // An unset install is left to detection; only an explicit value (even "") overrides it.
      install: config.inspect<string>('setup.install')?.globalValue,
      dev: config.get<string>('devServer.command') || undefined,
      port: config.get<number>('devServer.port') ?? 3000,
      copy: userValue<string[]>(config, 'setup.copyFiles') ?? [],
    },
    limits: {
      memoryBytes: memorySetting(userValue<string>(config, 'limits.memory')),
      cpus: userValue<number>(config, 'limits.cpus') ?? 2,
      pids: userValue<number>(config, 'limits.pids') ?? 512,
    },
    installTimeoutSeconds: Math.max(1, config.get<number>('setup.installTimeoutSeconds') ?? DEFAULT_INSTALL_TIMEOUT_SECONDS),
  };
}

/**
 * The coding agents New Task offers: the built-in ones and the user's own
 * (gitiso.codingAgents: the user's alone, as a preset says where the API key
 * goes), and the one gitiso.codingAgent chooses, when set. Read when asked: a malformed setting is an
 * error of that command, not of every other.
 */
export function readCodingAgents(): { readonly presets: CodingAgentPreset[]; readonly chosen?: string } {
  const config = vscode.workspace.getConfiguration('gitiso');
  const chosen = config.inspect<string>('codingAgent');
  return { presets: codingAgentPresets(userValue<unknown[]>(config, 'codingAgents'), 'gitiso.codingAgents'), chosen: chosen?.workspaceFolderValue || chosen?.workspaceValue || chosen?.globalValue || undefined };
}

/** Settings the agent service is built from. */
const SERVICE_SETTINGS = ['dockerHost', 'engines', 'dockerContexts', 'sshConfigFile', 'network', 'image', 'createStrategy', 'cloneDepth', 'cloneFilter', 'storagePath', 'setup', 'devServer', 'limits'];
/** Settings that choose the engine itself: only these end the window's forwards and exec channels. */
const ENGINE_SETTINGS = ['dockerHost', 'engines', 'dockerContexts', 'sshConfigFile'];

export function affectsService(event: vscode.ConfigurationChangeEvent): boolean {
  return SERVICE_SETTINGS.some((name) => event.affectsConfiguration(`gitiso.${name}`));
}

export function affectsEngine(event: vscode.ConfigurationChangeEvent): boolean {
  return ENGINE_SETTINGS.some((name) => event.affectsConfiguration(`gitiso.${name}`));
}

/** A malformed memory setting falls back to the default rather than breaking every create (the settings UI flags it). */
function memorySetting(value: string | undefined): number {
  try {
    return value ? parseMemory(value) : DEFAULT_LIMITS.memoryBytes;
  } catch {
    return DEFAULT_LIMITS.memoryBytes;
  }
}
