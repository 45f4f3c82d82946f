import * as vscode from 'vscode';
import type { CommandContext } from './context';
import { checkEngine } from './checkEngine';
import { copyBranchName } from './copyBranchName';
import { createAgent, createAgentHere } from './createAgent';
import { createAgents } from './createAgents';
import { newTask } from './newTask';
import { setApiKey } from '../windowApiAccess';
import { findLeftovers } from './findLeftovers';
import { getStarted } from './getStarted';
import { runGitShortcut } from './gitShortcuts';
import { openFileInAgent } from './openFileInAgent';
import { openTerminal } from './openTerminal';
import { pruneSnapshots } from './pruneSnapshots';
import { pushBranch } from './pushBranch';
import { reviewChanges } from './reviewChanges';
import { applyChanges, checkOutLocally, fetchIntoWorkspace, mergeIntoCurrentBranch } from './workspaceCommands';
import { removeAgent } from './removeAgent';
import { runGitCommand } from './runGitCommand';
import { syncAgent } from './syncAgent';
import { copyForwardUrl, forwardPort, openInBrowser, openPreview, stopForwarding } from './forwardCommands';
import { showDevServerLog } from './showDevServerLog';
import { showStats } from './showStats';
import { changeLimits } from './changeLimits';
import { startDevServer } from './startDevServer';
import { stopDevServer } from './stopDevServer';
import { showError } from '../showError';

type Handler = (ctx: CommandContext, ...args: never[]) => unknown;

/** Every command, by id. package.json contributes exactly these (a unit test checks). */
export const COMMANDS: Record<string, Handler> = {
  'gitiso.createAgent': createAgent,
  'gitiso.createAgentHere': createAgentHere,
  'gitiso.createAgents': createAgents,
  'gitiso.newTask': newTask,
  'gitiso.setApiKey': (ctx) => setApiKey(ctx.secrets),
  'gitiso.removeAgent': removeAgent,
  'gitiso.runGitCommand': runGitCommand,
  'gitiso.gitStatus': (ctx, target: never) => runGitShortcut(ctx, 'status', target),
  'gitiso.gitLog': (ctx, target: never) => runGitShortcut(ctx, 'log', target),
  'gitiso.gitDiff': (ctx, target: never) => runGitShortcut(ctx, 'diff', target),
  'gitiso.openTerminal': openTerminal,
  'gitiso.openFileInAgent': openFileInAgent,
  'gitiso.reviewChanges': reviewChanges,
  'gitiso.pushBranch': pushBranch,
  'gitiso.fetchIntoWorkspace': fetchIntoWorkspace,
  'gitiso.checkOutLocally': checkOutLocally,
  'gitiso.mergeIntoCurrentBranch': mergeIntoCurrentBranch,
  'gitiso.applyChanges': applyChanges,
  'gitiso.syncAgent': syncAgent,
  'gitiso.copyBranchName': copyBranchName,
  'gitiso.pruneSnapshots': pruneSnapshots,
  'gitiso.doctor': findLeftovers,
  'gitiso.startDevServer': (ctx, target: never) => startDevServer(ctx, target),
  'gitiso.restartDevServer': (ctx, target: never) => startDevServer(ctx, target, true),
  'gitiso.stopDevServer': stopDevServer,
  'gitiso.showDevServerLog': showDevServerLog,
  'gitiso.openPreview': openPreview,
  'gitiso.openInBrowser': openInBrowser,
  'gitiso.copyForwardUrl': copyForwardUrl,
  'gitiso.stopForwarding': stopForwarding,
  'gitiso.forwardPort': forwardPort,
  'gitiso.showStats': showStats,
  'gitiso.changeLimits': changeLimits,
  'gitiso.refresh': (ctx) => ctx.gitiso.model.refresh(),
  'gitiso.showLog': (ctx) => ctx.log.show(),
  'gitiso.getStarted': getStarted,
  'gitiso.checkEngine': checkEngine,
};

/**
 * Registers the table with one wrapper: errors are logged and shown with
 * "Show Log", cancellation is silent. The handler's result is returned to
 * programmatic callers (tests, other extensions); errors reach them as undefined.
 */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (handler as (ctx: CommandContext, ...args: unknown[]) => unknown)(ctx, ...args);
      } catch (error) {
        void showError(ctx.log, id, error);
        return undefined;
      }
    }),
  );
}
