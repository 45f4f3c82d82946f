import type { ContainerInspectInfo } from './engine';

/** The container's IPv4 address on its network (agents join one); undefined when it has none (stopped, or no network). */
export function containerAddress(info: Pick<ContainerInspectInfo, 'NetworkSettings'> | undefined): string | undefined {
  return Object.values(info?.NetworkSettings.Networks ?? {}).find((network) => network.IPAddress)?.IPAddress || undefined;
}
