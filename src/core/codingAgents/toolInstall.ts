import { createHash } from 'node:crypto';
import type { Engine } from '../docker/engine';
import { CreateFailedError } from '../errors';
import type { Logger } from '../logger';
import { runSetupCommand } from '../setup/setupCommand';
import type { CodingAgentPreset } from './codingAgentPreset';

/**
 * A coding agent's install, as a create asks for it: taken from the preset
 * the user chose (a built-in or the user's own setting), never from a
 * repository. It runs after the repository's install, in the snapshot build,
 * so the agents of one preset share one snapshot with the tool on disk.
 */
export interface ToolInstall {
  /** The preset's name: errors say which one to fix. */
  readonly preset: string;
  /** The preset's `install`: a shell command. */
  readonly command: string;
}

/** Where the tool install runs: not in /workspace, so no file of the repository (an `.npmrc`…) steers it. */
export const TOOL_INSTALL_DIR = '/';

/** The install a create of this preset asks for; undefined when the preset has none. */
export function toolInstallOf(preset: CodingAgentPreset): ToolInstall | undefined {
  return preset.install ? { preset: preset.name, command: preset.install } : undefined;
}

/**
 * The setup with the tool's install in its key: unchanged without one (agents
 * without a task keep the repository's snapshot), else a key of the
 * repository's key and the tool's command (agents of presets that install
 * alike share a snapshot).
 */
export function withToolInstall<S extends { readonly key: string; readonly tool?: ToolInstall }>(setup: S, tool: ToolInstall | undefined): S {
  if (!tool) {
    return setup;
  }
  const key = createHash('sha256').update(JSON.stringify([setup.key, 'tool', tool.command])).digest('hex').slice(0, 16);
  return { ...setup, tool, key };
}

/**
 * The tool's install, after tmux (the session the coding agent runs in) when
 * the image lacks it: only as root and with a package manager that can, else
 * the session's start says the image needs tmux. A failed tmux install stops
 * there, before the tool's.
 */
export function toolInstallScript(command: string): string {
  return `if ! command -v tmux >/dev/null && [ "$(id -u)" = 0 ]; then
  if command -v apt-get >/dev/null; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tmux && rm -rf /var/lib/apt/lists/*
  elif command -v apk >/dev/null; then apk add --no-cache -q tmux
  elif command -v dnf >/dev/null; then dnf install -y -q tmux
  fi || { echo "gitiso: could not install tmux, which keeps the coding agent's session" >&2; exit 1; }
fi
${command}`;
}

export interface ToolInstallRun {
  readonly containerId: string;
  readonly tool: ToolInstall;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
}

/**
 * Runs the tool's install (and tmux's) in a container, its output in the log.
 * A failure throws: an agent made for a task is of no use without its tool,
 * and nothing of a failed install is kept (the next task tries again).
 */
export async function installTool(engine: Pick<Engine, 'exec'>, run: ToolInstallRun): Promise<void> {
  const { containerId, tool, log, signal, timeoutMs } = run;
  const fix = `fix its "install" in gitiso.codingAgents (the CLI: GITISO_CODING_AGENTS) under the name '${tool.preset}', or choose another coding agent`;
  log.info(`coding agent '${tool.preset}': ${tool.command}`);
  const failure = await runSetupCommand(engine, {
    containerId,
    command: toolInstallScript(tool.command),
    shownAs: tool.command,
    workdir: TOOL_INSTALL_DIR,
    log,
    signal,
    timeout: { ms: timeoutMs, error: (seconds) => new CreateFailedError(`the install of the coding agent '${tool.preset}' did not finish within ${seconds} s: ${fix}, or allow it longer (gitiso.setup.installTimeoutSeconds, --install-timeout)`) },
  });
  if (failure) {
    throw new CreateFailedError(`the coding agent '${tool.preset}' could not be installed: ${failure}; ${fix}`);
  }
}
