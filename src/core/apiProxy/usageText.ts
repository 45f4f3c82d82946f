import { formatBytes } from '../limits/agentLimits';
import type { AgentUsage } from './agentUsage';

/**
 * An agent's API usage in one short line, as the tooltip, the stats panel and
 * `gitiso stats` show it (`12 requests · 3.4k tokens in · 1.2k out · 56 KB`):
 * tokens only where the API reported some, refusals only when there were.
 * Undefined when the agent used no API. Pure.
 */
export function usageLine(usage: AgentUsage | undefined): string | undefined {
  if (!usage || (usage.requests === 0 && usage.refused === 0)) {
    return undefined;
  }
  const parts = [`${compactCount(usage.requests)} request${usage.requests === 1 ? '' : 's'}`];
  if (usage.inputTokens > 0 || usage.outputTokens > 0) {
    parts.push(`${compactCount(usage.inputTokens)} tokens in`, `${compactCount(usage.outputTokens)} out`);
  }
  parts.push(formatBytes(usage.bytesIn + usage.bytesOut));
  if (usage.refused > 0) {
    parts.push(`${compactCount(usage.refused)} refused`);
  }
  return parts.join(' · ');
}

const UNITS = [
  ['', 1],
  ['k', 1e3],
  ['M', 1e6],
  ['B', 1e9],
  ['T', 1e12],
] as const;

/** A count in at most four characters and a unit: 999, 3.4k, 56k, 1.2M. Pure. */
export function compactCount(count: number): string {
  for (const [unit, size] of UNITS) {
    const value = count / size;
    const shown = value < 10 && unit ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
    if (Number(shown) < 1000 || unit === 'T') {
      return `${shown}${unit}`;
    }
  }
  return String(count);
}
