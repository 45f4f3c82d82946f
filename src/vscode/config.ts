import * as vscode from 'vscode';
import { CREATE_STRATEGIES, type CreateStrategy } from '../core/agent';
import { defaultImage } from '../core/defaults';

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
  };
}

/** Settings the engine connection and the agent service are built from. */
const SERVICE_SETTINGS = ['dockerHost', 'network', 'image', 'createStrategy', 'cloneDepth', 'cloneFilter', 'storagePath'];

export function affectsService(event: vscode.ConfigurationChangeEvent): boolean {
  return SERVICE_SETTINGS.some((name) => event.affectsConfiguration(`gitiso.${name}`));
}
