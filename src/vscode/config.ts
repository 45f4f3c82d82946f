import * as vscode from 'vscode';
import { defaultImage } from '../core/defaults';

export interface Settings {
  readonly image: string;
  readonly dockerHost: string;
  readonly defaultBaseBranch: string;
  readonly network: string;
  readonly createConcurrency: number;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('gitiso');
  return {
    image: config.get<string>('image') || defaultImage(),
    dockerHost: config.get<string>('dockerHost') ?? '',
    defaultBaseBranch: config.get<string>('defaultBaseBranch') ?? '',
    network: config.get<string>('network') ?? '',
    createConcurrency: Math.max(1, config.get<number>('createConcurrency') ?? 3),
  };
}

/** Settings that need a new engine connection when they change. */
export function affectsConnection(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration('gitiso.dockerHost') || event.affectsConfiguration('gitiso.network');
}
