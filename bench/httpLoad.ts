import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** Load on one HTTP endpoint on this machine; every way is bounded in time or in requests, and stops by itself. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface LoadFigures {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
}

export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One GET over `agent`; resolves when the whole body has arrived. */
export function get(agent: Agent, endpoint: Endpoint, path = '/'): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: endpoint.host, port: endpoint.port, path, agent, timeout: 5_000 }, (res) => {
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
      res.resume();
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export interface LoadShape {
  readonly connections: number;
  /** Keep connections open between requests (HTTP keep-alive), or a new connection per request. */
  readonly keepAlive: boolean;
  readonly seconds?: number;
  readonly requestLimit?: number;
}

/**
 * `connections` workers, each sending its next request as soon as the last
 * one is answered, until `seconds` have passed or `requestLimit` requests are
 * done.
 */
export async function measureLoad(endpoint: Endpoint, shape: LoadShape): Promise<LoadFigures> {
  const agent = new Agent({ keepAlive: shape.keepAlive, maxSockets: shape.connections });
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = shape.seconds === undefined ? Number.POSITIVE_INFINITY : started + shape.seconds * 1000;
  const requestLimit = shape.requestLimit ?? Number.POSITIVE_INFINITY;
  try {
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline && latencies.length < requestLimit) {
        const sent = performance.now();
        await get(agent, endpoint);
        latencies.push(performance.now() - sent);
      }
    };
    await Promise.all(Array.from({ length: shape.connections }, worker));
  } finally {
    agent.destroy();
  }
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: latencies.length / elapsedSeconds,
    requests: latencies.length,
    medianMs: percentile(latencies, 0.5),
    p90Ms: percentile(latencies, 0.9),
    p99Ms: percentile(latencies, 0.99),
  };
}

export interface LatencyFigures {
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
}

export function latencyFigures(latencies: number[]): LatencyFigures {
  latencies.sort((a, b) => a - b);
  return { medianMs: percentile(latencies, 0.5), p90Ms: percentile(latencies, 0.9), p99Ms: percentile(latencies, 0.99) };
}

/**
 * One request at a time over one keep-alive connection per endpoint (or a
 * new connection per request: the first byte's wait, connecting included),
 * taking the endpoints in turn (`requests` each): a drift of the machine's
 * load reaches every endpoint's latencies alike.
 */
export async function measureInterleaved(endpoints: readonly Endpoint[], requests: number, shape: { readonly keepAlive?: boolean; readonly path?: string } = {}): Promise<LatencyFigures[]> {
  const keepAlive = shape.keepAlive ?? true;
  const agents = endpoints.map(() => new Agent({ keepAlive, maxSockets: 1 }));
  const latencies = endpoints.map((): number[] => []);
  try {
    for (let i = 0; i < requests; i++) {
      for (const [index, endpoint] of endpoints.entries()) {
        const sent = performance.now();
        await get(agents[index] as Agent, endpoint, shape.path);
        latencies[index]?.push(performance.now() - sent);
      }
    }
  } finally {
    agents.forEach((agent) => agent.destroy());
  }
  return latencies.map(latencyFigures);
}

/** Polls until the endpoint answers, for at most `timeoutMs`. */
export async function waitUntilAnswering(endpoint: Endpoint, timeoutMs: number): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await get(agent, endpoint);
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`server at ${endpoint.host}:${endpoint.port} did not answer within ${timeoutMs} ms: ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    agent.destroy();
  }
}
