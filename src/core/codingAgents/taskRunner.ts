import { asError } from '../errors';
import type { AgentSessions } from './agentSessions';
import type { AgentTools } from './agentTools';
import { taskCommand, type CodingAgentApi, type CodingAgentPreset } from './codingAgentPreset';

/**
 * What lets a coding agent reach its API without the key: the variables that
 * point it at the host's proxy with a token of its own (see apiProxy/).
 */
export interface ApiAccess {
  envFor(agentId: string, api: CodingAgentApi): Promise<Record<string, string>>;
}

export interface TaskRequest {
  readonly prompt: string;
  readonly preset: CodingAgentPreset;
  /** The agents that take the task (the same task to each: best of N). */
  readonly agentIds: readonly string[];
  /** Cancels what has not started (a tool's install). */
  readonly signal?: AbortSignal;
}

export type TaskOutcome = { readonly id: string; readonly started: boolean } | { readonly id: string; readonly error: Error };

/**
 * Starts a task's coding agent in each of its agents, each in its own session
 * (its tool installed first where the agent lacks it); one agent's failure
 * leaves the others.
 */
export class TaskRunner {
  constructor(private readonly deps: { readonly sessions: Pick<AgentSessions, 'start'>; readonly access?: ApiAccess; readonly tools?: Pick<AgentTools, 'ensure'> }) {}

  async start(request: TaskRequest): Promise<TaskOutcome[]> {
    const { prompt, preset } = request;
    const argv = taskCommand(preset, prompt);
    return Promise.all(
      request.agentIds.map(async (id): Promise<TaskOutcome> => {
        try {
          // The key first: a missing one is said before a long install.
          const env = preset.api ? await this.apiEnv(id, preset.api) : {};
          await this.deps.tools?.ensure(id, preset, request.signal);
          return { id, started: await this.deps.sessions.start(id, { argv, env, preset: preset.name, prompt }) };
        } catch (error) {
          return { id, error: asError(error) };
        }
      }),
    );
  }

  private apiEnv(agentId: string, api: CodingAgentApi): Promise<Record<string, string>> {
    if (!this.deps.access) {
      throw new Error(`the coding agent calls ${api.upstream}, and no key proxy runs in this process`);
    }
    return this.deps.access.envFor(agentId, api);
  }
}
