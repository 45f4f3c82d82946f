import type { AgentService } from '../agentService';
import type { Engine } from '../docker/engine';
import type { Logger } from '../logger';
import type { CodingAgentPreset } from './codingAgentPreset';
import { installTool, toolInstallOf } from './toolInstall';

/** How long the look for the tool's command may take: a plain `command -v`. */
const LOOK_TIMEOUT_MS = 15_000;

/**
 * A task's coding agent in an agent made without it (before the task, or for
 * another preset): when the preset's command is not found there, its install
 * runs in the agent as a create's would in the snapshot build (after tmux,
 * in `/`, the output in the log). The install comes from the preset the user
 * chose, never from the repository.
 */
export class AgentTools {
  constructor(
    private readonly deps: {
      readonly engine: Pick<Engine, 'exec'>;
      readonly agents: Pick<AgentService, 'get'>;
      readonly log: Logger;
      readonly installTimeoutMs: number;
    },
  ) {}

  /** True when it installed the tool; false when the agent has it, or the preset installs nothing. Throws when the install fails. */
  async ensure(agentId: string, preset: CodingAgentPreset, signal?: AbortSignal): Promise<boolean> {
    const tool = toolInstallOf(preset);
    const [command] = preset.command;
    if (!tool || !command) {
      return false;
    }
    const { engine, log } = this.deps;
    const { containerId } = await this.deps.agents.get(agentId);
    const look = await engine.exec(containerId, ['sh', '-c', 'command -v "$1" >/dev/null', 'gitiso-look', command], { timeoutMs: LOOK_TIMEOUT_MS, signal });
    if (look.exitCode === 0) {
      return false;
    }
    log.info(`${agentId}: '${command}' is not in the agent: installing the coding agent '${preset.name}' there first`);
    await installTool(engine, { containerId, tool, log, signal, timeoutMs: this.deps.installTimeoutMs });
    return true;
  }
}
