/**
 * What the Show Stats panel (src/vscode/stats) sends its webview (src/webview/stats.ts).
 * Both sides import this file, so it imports neither `vscode` nor Node: it runs
 * in the browser bundle and in unit tests under plain Node.
 */

import { isRecord } from './isRecord';

/**
 * One sample as the page draws it. The core's AgentStats is assignable to it,
 * so the panel posts the sampler's history as is and the compiler keeps the two in step.
 */
export interface StatsSample {
  /** Percent of one core: 200 is two cores. */
  readonly cpuPercent: number;
  readonly memoryBytes: number;
  /** Undefined when the agent has no memory limit. */
  readonly memoryLimitBytes?: number;
  readonly pids: number;
  readonly oomKills: number;
  readonly netRxBytes: number;
  readonly netTxBytes: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
  /** Undefined until the disk has been measured. */
  readonly diskBytes?: number;
  /** Epoch milliseconds. */
  readonly sampledAt: number;
}

/** From the extension to the webview: the agent's samples, oldest first; the page draws them. */
export interface StatsMessage {
  readonly type: 'samples';
  readonly samples: readonly StatsSample[];
  /** Its API usage through the key proxy, as one line (src/core/apiProxy/usageText.ts); absent when it used none. */
  readonly apiUsage?: string;
}

/** More than a usage line ever is: a longer one is not shown. */
export const MAX_USAGE_LINE = 200;

const REQUIRED_NUMBERS = ['cpuPercent', 'memoryBytes', 'pids', 'oomKills', 'netRxBytes', 'netTxBytes', 'blockReadBytes', 'blockWriteBytes', 'sampledAt'] as const;
const OPTIONAL_NUMBERS = ['memoryLimitBytes', 'diskBytes'] as const;

/** The message, when it is one the extension may send; anything else is ignored by the page. */
export function parseStatsMessage(value: unknown): StatsMessage | undefined {
  if (!isRecord(value) || value.type !== 'samples' || !Array.isArray(value.samples)) {
    return undefined;
  }
  const samples: unknown[] = value.samples;
  const apiUsage = typeof value.apiUsage === 'string' ? value.apiUsage : undefined;
  if (value.apiUsage !== undefined && (apiUsage === undefined || apiUsage.length > MAX_USAGE_LINE)) {
    return undefined;
  }
  return samples.every(isStatsSample) ? { type: 'samples', samples, ...(apiUsage ? { apiUsage } : {}) } : undefined;
}

function isStatsSample(value: unknown): value is StatsSample {
  return (
    isRecord(value) &&
    REQUIRED_NUMBERS.every((key) => typeof value[key] === 'number') &&
    OPTIONAL_NUMBERS.every((key) => value[key] === undefined || typeof value[key] === 'number')
  );
}
