import * as vscode from 'vscode';
import { WORKSPACE } from '../../core/agent';
import { InteractiveExec } from '../../core/docker/interactiveExec';
import type { Engine } from '../../core/docker/engine';

/**
 * A terminal inside an agent's container at /workspace: a Pseudoterminal over
 * an engine exec with a TTY, so no docker CLI is needed on this machine.
 * `run.command` runs something else than a shell there (the dev server's log).
 */
export function createAgentTerminal(engine: Engine, agentId: string, containerId: string, run: { name?: string; command?: readonly string[] } = {}): vscode.Terminal {
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
      InteractiveExec.open(engine.docker, containerId, { workdir: WORKSPACE, columns: dimensions?.columns, rows: dimensions?.rows, command: run.command }).then(
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
          write.fire(`\r\ngitiso: cannot open a shell in agent '${agentId}': ${(error as Error).message}\r\n`);
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
  return vscode.window.createTerminal({ name: run.name ?? `gitiso: ${agentId}`, pty, iconPath: new vscode.ThemeIcon(run.command ? 'output' : 'vm') });
}
