import * as vscode from 'vscode';
import type { AgentExec } from '../../core/agentExec';
import type { InteractiveExec } from '../../core/docker/interactiveExec';
import { describeCause } from '../../core/errors';

/**
 * A terminal inside an agent's container at /workspace: a Pseudoterminal over
 * an engine exec with a TTY, so no docker CLI is needed on this machine.
 * `target.command` runs something else than a shell there (the dev server's log).
 */
export function createAgentTerminal(exec: AgentExec, target: { readonly agentId: string; readonly containerId: string; readonly name?: string; readonly command?: readonly string[] }): vscode.Terminal {
  const { agentId, containerId } = target;
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<number | undefined>();
  let session: InteractiveExec | undefined;
  let pendingSize: vscode.TerminalDimensions | undefined;
  // Keystrokes typed (or sent) before the shell is up are kept, not lost.
  let pendingInput = '';

  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    onDidClose: close.event,
    open: (dimensions) => {
      exec.openInteractive(containerId, { columns: dimensions?.columns, rows: dimensions?.rows, command: target.command }).then(
        (opened) => {
          session = opened;
          opened.onData((text) => write.fire(text));
          opened.onExit((code) => close.fire(code ?? undefined));
          if (pendingSize) {
            void opened.resize(pendingSize.columns, pendingSize.rows);
          }
          if (pendingInput) {
            opened.write(pendingInput);
            pendingInput = '';
          }
        },
        (error: unknown) => {
          write.fire(`\r\ngitiso: cannot open a shell in agent '${agentId}': ${describeCause(error)}\r\n`);
          close.fire(1);
        },
      );
    },
    handleInput: (data) => {
      if (session) {
        session.write(data);
      } else {
        pendingInput += data;
      }
    },
    setDimensions: (dimensions) => {
      pendingSize = dimensions;
      void session?.resize(dimensions.columns, dimensions.rows);
    },
    close: () => {
      session?.dispose();
      write.dispose();
      close.dispose();
    },
  };
  return vscode.window.createTerminal({ name: target.name ?? `gitiso: ${agentId}`, pty, iconPath: new vscode.ThemeIcon(target.command ? 'output' : 'vm') });
}
