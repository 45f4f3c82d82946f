import { LABEL } from './agent';
import type { ContainerInspectInfo, Engine } from './docker/engine';
import { AgentNotFoundError } from './errors';
import { containerNameFor } from './names';

/** The container of agent `id`, or AgentNotFoundError (a container of that name that is not this agent does not count). */
export async function inspectAgent(engine: Pick<Engine, 'inspectContainer'>, id: string): Promise<ContainerInspectInfo> {
  const info = await engine.inspectContainer(containerNameFor(id));
  if (!info || info.Config.Labels?.[LABEL.agent] !== id) {
    throw new AgentNotFoundError(id);
  }
  return info;
}
