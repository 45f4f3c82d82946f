import type { AgentIdentity } from '../agent';
import { agentContainerSpec } from '../docker/containerSpec';
import { statusCode, type Engine } from '../docker/engine';
import { AgentExistsError, CancelledError, describeCause, InvalidInputError, isCancellation } from '../errors';
import type { AgentLimits } from '../limits/agentLimits';
import type { Logger } from '../logger';
import { NETWORK_SETTING } from '../network/networkSetting';

export interface AgentContainerRequest {
  readonly identity: AgentIdentity;
  /** What it runs from: the image asked for, or a snapshot of it. */
  readonly image: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly network: string;
  readonly limits: AgentLimits;
  readonly binds?: string[];
  readonly cmd?: string[];
}

/** Creates (does not start) an agent's container; a taken name is AgentExistsError, a missing network says which setting to change. */
export async function createAgentContainer(engine: Pick<Engine, 'createContainer'>, request: AgentContainerRequest): Promise<string> {
  try {
    return await engine.createContainer(agentContainerSpec(request));
  } catch (error) {
    if (statusCode(error) === 409) {
      throw new AgentExistsError(request.identity.id);
    }
    if (statusCode(error) === 404 && !isMissingImage(error)) {
      // Removed between its check and this create.
      throw new InvalidInputError(`Docker network '${request.network}' does not exist: create it or change ${NETWORK_SETTING}, then try again`);
    }
    throw error;
  }
}

/** Runs the steps after a container exists; if one fails or is cancelled, the container goes. */
export async function removeOnFailure(engine: Pick<Engine, 'removeContainer'>, log: Logger, made: { readonly agentId: string; readonly containerId: string }, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (error) {
    log.warn(`creation of agent '${made.agentId}' failed, removing its container: ${describeCause(error)}`);
    await engine.removeContainer(made.containerId).catch((removeError: unknown) => log.error(`could not remove container ${made.containerId}: ${describeCause(removeError)}`));
    throw isCancellation(error) ? new CancelledError(`creation of agent '${made.agentId}'`) : error;
  }
}

export function isMissingImage(error: unknown): boolean {
  return statusCode(error) === 404 && /no such image/i.test(describeCause(error));
}
