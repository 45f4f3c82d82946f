import * as vscode from 'vscode';
import type { AgentExec } from '../../core/agentExec';
import type { InteractiveExec } from '../../core/docker/interactiveExec';
import { describeCause } from '../../core/errors';

export interface AgentTerminalTarget {
  readonly agentId: string;
  readonly containerId: string;
  readonly name?: string;
  readonly command?: readonly string[];
  /**
   * Whether the agent's container still runs, asked when the process ends: an
   * agent stopped or removed kills it (exit code 137), which is no error of the
   * user's, so the terminal says so in one line instead of reporting the code.
   */
  readonly stillRuns?: () => Promise<boolean>;
}

/**
 * A terminal inside an agent's container at /workspace: a Pseudoterminal over
 * an engine exec with a TTY, so no docker CLI is needed on this machine.
 * `target.command` runs something else than a shell there (the dev server's log).
 */
export function createAgentTerminal(exec: AgentExec, target: AgentTerminalTarget): vscode.Terminal {
  const { agentId, containerId } = target;
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<number | undefined>();
  let session: InteractiveExec | undefined;
  let pendingSize: vscode.TerminalDimensions | undefined;
  // Keystrokes typed (or sent) before the shell is up are kept, not lost.
  let pendingInput = '';

  let ended = false;
  const endWith = async (code: number | undefined): Promise<void> => {
    const agentGone = code !== undefined && code !== 0 && target.stillRuns !== undefined && !(await target.stillRuns().catch(() => false));
    if (ended) {
      return;
    }
    ended = true;
    if (agentGone) {
      // The terminal stays, with its scrollback and a last line, and no exit code to report.
      write.fire(`\r\n\x1b[2mgitiso: agent '${agentId}' was stopped or removed; this terminal has ended.\x1b[0m\r\n`);
      session = undefined;
      return;
    }
    close.fire(code);
  };

  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    onDidClose: close.event,
    open: (dimensions) => {
      exec.openInteractive(containerId, { columns: dimensions?.columns, rows: dimensions?.rows, command: target.command }).then(
        (opened) => {
          session = opened;
          opened.onData((text) => write.fire(text));
          opened.onExit((code) => void endWith(code ?? undefined));
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
      if (ended) {
        return;
      }
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
      ended = true;
      session?.dispose();
      write.dispose();
      close.dispose();
    },
  };
  return vscode.window.createTerminal({ name: target.name ?? `gitiso: ${agentId}`, pty, iconPath: new vscode.ThemeIcon(target.command ? 'output' : 'vm') });
}
