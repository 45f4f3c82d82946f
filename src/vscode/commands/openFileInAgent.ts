import { posix } from 'node:path';
import * as vscode from 'vscode';
import { AgentNotRunningError, CancelledError } from '../../core/errors';
import { AgentFiles } from '../../core/files/agentFiles';
import { agentFileUri } from '../files/agentFileSystem';
import type { CommandContext } from './context';
import { isRunning, pickAgent, type AgentTarget } from './pickAgents';

const TITLE = 'Open File in Agent';

interface FileItem extends vscode.QuickPickItem {
  readonly path: string;
}

/**
 * Open File in Agent…: a pick over the files git knows in the agent (tracked
 * and untracked, not ignored), opened as `gitiso-agent:` files, editable in
 * place. A script or test may name the file (`path`, relative to /workspace).
 */
export async function openFileInAgent(ctx: CommandContext, target?: AgentTarget, path?: unknown): Promise<vscode.TextEditor> {
  const agent = await pickAgent(ctx.gitiso, target, TITLE, isRunning);
  if (!isRunning(agent)) {
    throw new AgentNotRunningError(agent.id, agent.state);
  }
  // From a menu the second argument is the selection, not a path.
  const chosen = typeof path === 'string' ? path : await pickFile(ctx, agent.id);
  return vscode.window.showTextDocument(agentFileUri(agent.id, chosen), { preview: false });
}

async function pickFile(ctx: CommandContext, agentId: string): Promise<string> {
  const pick = vscode.window.createQuickPick<FileItem>();
  pick.title = `${TITLE} '${agentId}'`;
  pick.placeholder = 'Reading the agent\'s files…';
  pick.matchOnDescription = true;
  pick.busy = true;
  const loading = new AbortController();
  const chosen = new Promise<string | undefined>((resolve) => {
    pick.onDidAccept(() => {
      // Enter while the list loads, or on no match, keeps the pick open.
      const path = pick.selectedItems[0]?.path;
      if (path !== undefined) {
        resolve(path);
      }
    });
    pick.onDidHide(() => {
      loading.abort();
      resolve(undefined);
    });
  });
  pick.show();
  try {
    const listed = new AgentFiles(ctx.gitiso.on(agentId)).listFiles(agentId, { signal: loading.signal });
    const { paths, complete } = await Promise.race([listed, chosen.then(() => undefined)]).then((result) => result ?? { paths: [], complete: true });
    pick.items = paths.map((file) => ({ label: posix.basename(file), description: posix.dirname(file) === '.' ? '' : posix.dirname(file), path: file }));
    pick.placeholder = complete ? `Type to search the agent's ${paths.length} files` : `Type to search the first ${paths.length} of the agent's files`;
    pick.busy = false;
    const path = await chosen;
    if (!path) {
      throw new CancelledError(TITLE);
    }
    return path;
  } finally {
    pick.dispose();
  }
}
