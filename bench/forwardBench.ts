import type { Engine } from '../src/core/docker/engine';
import { measureInterleaved, measureLoad, median, type Endpoint, type LatencyFigures, type LoadFigures } from './httpLoad';
import { BIG_BODY_BYTES, startForwardServer, processCpuMicros, type ForwardServer } from './forwardServer';
import { startRelayProcess, type RelayProcess } from './relayProcess';
import { RELAY_DESCRIPTIONS, RELAY_KINDS, type RelayKind } from './relayVariants';
import { measureEchoes } from './wsEcho';

/**
 * The ways to reach a dev server in a container from 127.0.0.1, measured in
 * one run against direct access to the container's address: the engine
 * publishing the port at create time (127.0.0.1 and a host port the engine
 * picks), and relays in a process of their own (gitiso's, as it was, and
 * the alternatives). Each round loads every way in turn, in an order that
 * rotates, then measures latencies (HTTP, WebSocket echo) one request per
 * way in turn, so drift on a shared machine hits them alike; ratios are
 * taken within a round, then their median.
 */

export const FORWARD_TARGETS = { throughputLossPercent: 10, addedMsPerRequest: 0.1 } as const;

const KEEP_ALIVE_CONNECTIONS = 8;
const BULK_DOWNLOADS = 5;

export type ForwardWay = 'direct' | 'published' | RelayKind;

export interface ForwardBenchOptions {
  readonly engine: Engine;
  readonly image: string;
  readonly rounds: number;
  /** Seconds of keep-alive load per way and round (half as long with a connection per request). */
  readonly seconds: number;
  readonly sequentialRequests: number;
  readonly echoMessages: number;
  /** What gitiso uses for a dev port (its PortForwarder: see the closing note of issue 13), marked in the report. */
  readonly chosen: readonly ForwardWay[];
  readonly log?: (line: string) => void;
}

interface RoundFigures {
  readonly keepAlive: LoadFigures;
  readonly perConnection: LoadFigures;
  readonly sequential: LatencyFigures;
  /** A request on a new connection each time: the wait for the first byte, connecting (an exec through the engine) included. */
  readonly firstByte: LatencyFigures;
  /** GET of BIG_BODY_BYTES, one at a time: MB/s of a download. */
  readonly bulkMBps: number;
  readonly echo: LatencyFigures;
  /** CPU time of whatever carries the bytes (relay process, the engine's proxy), per keep-alive request. */
  readonly cpuMicrosPerRequest?: number;
}

export interface ForwardWayResult {
  readonly way: ForwardWay;
  readonly description: string;
  readonly keepAliveRps: number;
  readonly perConnectionRps: number;
  readonly sequentialMedianMs: number;
  readonly sequentialP90Ms: number;
  readonly echoP50Ms: number;
  readonly echoP99Ms: number;
  readonly firstByteMedianMs: number;
  readonly bulkMBps: number;
  readonly cpuMicrosPerRequest?: number;
  /** Medians over rounds of this way against direct access in the same round. */
  readonly keepAliveLossPercent: number;
  readonly perConnectionLossPercent: number;
  readonly addedMsPerRequest: number;
  readonly echoAddedP50Ms: number;
  /** Medians over rounds of this way's figure divided by direct access's in the same round. */
  readonly firstByteRatio: number;
  readonly bulkRatio: number;
  readonly rounds: readonly RoundFigures[];
}

export interface ForwardBenchResults {
  readonly settings: Omit<ForwardBenchOptions, 'engine' | 'log'> & { readonly keepAliveConnections: number };
  readonly ways: readonly ForwardWayResult[];
}

interface WayUnderTest {
  readonly way: ForwardWay;
  readonly description: string;
  readonly endpoint: Endpoint;
  readonly cpuMicros?: () => Promise<number>;
}

export async function runForwardBench(options: ForwardBenchOptions): Promise<ForwardBenchResults> {
  const { engine, rounds, seconds } = options;
  const log = options.log ?? (() => undefined);
  if (!(rounds >= 1 && seconds > 0)) {
    throw new Error('the forwarder benchmark needs at least one round of more than 0 seconds');
  }
  const name = `gitiso-bench-forward-${process.pid}`;
  const relays: RelayProcess[] = [];
  try {
    const server = await startForwardServer(engine, options.image, name);
    for (const kind of RELAY_KINDS) {
      relays.push(await startRelayProcess(kind, { ...server.direct, containerId: server.containerId }));
    }
    const ways = waysUnderTest(server, relays);
    log(`forward: server ${server.direct.host}:${server.direct.port}, published 127.0.0.1:${server.published.port}${server.proxyPid ? ` (docker-proxy ${server.proxyPid})` : ' (no userland proxy seen)'}`);
    const figures = new Map<ForwardWay, RoundFigures[]>(ways.map((way) => [way.way, []]));
    for (let round = 0; round < rounds; round++) {
      const order = ways.map((_, i) => ways[(i + round) % ways.length] as WayUnderTest);
      const loads = new Map<ForwardWay, Omit<RoundFigures, 'sequential' | 'echo' | 'firstByte' | 'bulkMBps'>>();
      for (const way of order) {
        loads.set(way.way, await measureLoads(way, options));
      }
      const sequential = await measureInterleaved(order.map((way) => way.endpoint), options.sequentialRequests);
      const firstBytes = await measureInterleaved(order.map((way) => way.endpoint), Math.ceil(options.sequentialRequests / 5), { keepAlive: false });
      const bulks = await measureInterleaved(order.map((way) => way.endpoint), BULK_DOWNLOADS, { path: '/big' });
      const echoes = await measureEchoes(order.map((way) => way.endpoint), options.echoMessages);
      for (const [index, way] of order.entries()) {
        const measured = {
          ...(loads.get(way.way) as Omit<RoundFigures, 'sequential' | 'echo' | 'firstByte' | 'bulkMBps'>),
          sequential: sequential[index] as LatencyFigures,
          firstByte: firstBytes[index] as LatencyFigures,
          bulkMBps: BIG_BODY_BYTES / 1e6 / (((bulks[index] as LatencyFigures).medianMs) / 1e3),
          echo: echoes[index] as LatencyFigures,
        };
        figures.get(way.way)?.push(measured);
        log(`forward round ${round + 1} ${way.way}: ${measured.keepAlive.requestsPerSecond.toFixed(0)} req/s, sequential ${measured.sequential.medianMs.toFixed(3)} ms, echo p50 ${measured.echo.medianMs.toFixed(3)} ms`);
      }
    }
    const settings = { image: options.image, rounds, seconds, sequentialRequests: options.sequentialRequests, echoMessages: options.echoMessages, chosen: options.chosen };
    return { settings: { ...settings, keepAliveConnections: KEEP_ALIVE_CONNECTIONS }, ways: ways.map((way) => summarize(way, figures)) };
  } finally {
    await Promise.all(relays.map((relay) => relay.stop()));
    await engine.removeContainer(name);
  }
}

function waysUnderTest(server: ForwardServer, relays: readonly RelayProcess[]): WayUnderTest[] {
  const { proxyPid } = server;
  return [
    { way: 'direct', description: `direct (container ${server.direct.host})`, endpoint: server.direct },
    {
      way: 'published',
      description: `engine-published 127.0.0.1:${server.published.port}${proxyPid ? ' (docker-proxy)' : ''}`,
      endpoint: server.published,
      ...(proxyPid ? { cpuMicros: async () => processCpuMicros(proxyPid) } : {}),
    },
    ...relays.map((relay) => ({ way: relay.kind, description: RELAY_DESCRIPTIONS[relay.kind], endpoint: { host: '127.0.0.1', port: relay.hostPort }, cpuMicros: () => relay.cpuMicros() })),
  ];
}

/** Load on one way: keep-alive (with the CPU time of what carries the bytes), then a new connection per request. */
async function measureLoads(way: WayUnderTest, options: ForwardBenchOptions): Promise<Omit<RoundFigures, 'sequential' | 'echo' | 'firstByte' | 'bulkMBps'>> {
  const { seconds } = options;
  await measureLoad(way.endpoint, { connections: KEEP_ALIVE_CONNECTIONS, keepAlive: true, seconds: Math.min(0.5, seconds / 2) });
  const cpuBefore = await way.cpuMicros?.();
  const keepAlive = await measureLoad(way.endpoint, { connections: KEEP_ALIVE_CONNECTIONS, keepAlive: true, seconds });
  const cpuAfter = await way.cpuMicros?.();
  const perConnection = await measureLoad(way.endpoint, { connections: KEEP_ALIVE_CONNECTIONS, keepAlive: false, seconds: seconds / 2 });
  const cpuMicrosPerRequest = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / keepAlive.requests;
  return { keepAlive, perConnection, ...(cpuMicrosPerRequest === undefined ? {} : { cpuMicrosPerRequest }) };
}

function summarize(way: WayUnderTest, figures: ReadonlyMap<ForwardWay, readonly RoundFigures[]>): ForwardWayResult {
  const mine = figures.get(way.way) ?? [];
  const direct = figures.get('direct') ?? [];
  const against = (of: (round: RoundFigures, base: RoundFigures) => number): number => median(mine.map((round, i) => (direct[i] ? of(round, direct[i]) : Number.NaN)));
  const cpu = mine.flatMap((round) => (round.cpuMicrosPerRequest === undefined ? [] : [round.cpuMicrosPerRequest]));
  return {
    way: way.way,
    description: way.description,
    keepAliveRps: median(mine.map((r) => r.keepAlive.requestsPerSecond)),
    perConnectionRps: median(mine.map((r) => r.perConnection.requestsPerSecond)),
    sequentialMedianMs: median(mine.map((r) => r.sequential.medianMs)),
    sequentialP90Ms: median(mine.map((r) => r.sequential.p90Ms)),
    echoP50Ms: median(mine.map((r) => r.echo.medianMs)),
    echoP99Ms: median(mine.map((r) => r.echo.p99Ms)),
    firstByteMedianMs: median(mine.map((r) => r.firstByte.medianMs)),
    bulkMBps: median(mine.map((r) => r.bulkMBps)),
    ...(cpu.length ? { cpuMicrosPerRequest: median(cpu) } : {}),
    keepAliveLossPercent: against((r, d) => (1 - r.keepAlive.requestsPerSecond / d.keepAlive.requestsPerSecond) * 100),
    perConnectionLossPercent: against((r, d) => (1 - r.perConnection.requestsPerSecond / d.perConnection.requestsPerSecond) * 100),
    addedMsPerRequest: against((r, d) => r.sequential.medianMs - d.sequential.medianMs),
    echoAddedP50Ms: against((r, d) => r.echo.medianMs - d.echo.medianMs),
    firstByteRatio: against((r, d) => r.firstByte.medianMs / d.firstByte.medianMs),
    bulkRatio: against((r, d) => r.bulkMBps / d.bulkMBps),
    rounds: mine,
  };
}

export function formatForwardResults(results: ForwardBenchResults): string {
  if (results.ways.length === 0) {
    return '';
  }
  const { settings } = results;
  const f3 = (value: number): string => value.toFixed(3);
  const pct = (value: number): string => `${value >= 0 ? '−' : '+'}${Math.abs(value).toFixed(1)} %`;
  const lines = [
    `\nForwarding a dev server to 127.0.0.1 against direct access: ${settings.keepAliveConnections} keep-alive connections × ${settings.seconds} s, as many with a new connection per request × ${settings.seconds / 2} s, ${settings.sequentialRequests} sequential requests, ${Math.ceil(settings.sequentialRequests / 5)} first bytes on new connections, ${BULK_DOWNLOADS} downloads of ${BIG_BODY_BYTES / 1024 / 1024} MiB, ${settings.echoMessages} WebSocket echoes; ${settings.rounds} round(s), medians (ratios within a round)\n`,
    '| way | keep-alive req/s | vs direct | added ms/request (sequential) | new connection per request req/s | vs direct | first byte, new connection ms | × direct | download MB/s | × direct | WS echo p50 / p99 ms | CPU µs/request |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const w of results.ways) {
    const isDirect = w.way === 'direct';
    const mark = settings.chosen.includes(w.way) ? ' **(gitiso)**' : '';
    lines.push(
      `| ${w.description}${mark} | ${w.keepAliveRps.toFixed(0)} | ${isDirect ? '' : pct(w.keepAliveLossPercent)} | ${isDirect ? `${f3(w.sequentialMedianMs)} ms (base)` : f3(w.addedMsPerRequest)} | ${w.perConnectionRps.toFixed(0)} | ${isDirect ? '' : pct(w.perConnectionLossPercent)} | ${f3(w.firstByteMedianMs)} | ${isDirect ? '' : w.firstByteRatio.toFixed(1)} | ${w.bulkMBps.toFixed(0)} | ${isDirect ? '' : w.bulkRatio.toFixed(2)} | ${f3(w.echoP50Ms)} / ${f3(w.echoP99Ms)} | ${w.cpuMicrosPerRequest === undefined ? '' : w.cpuMicrosPerRequest.toFixed(0)} |`,
    );
  }
  for (const way of settings.chosen) {
    const w = results.ways.find((candidate) => candidate.way === way);
    if (!w) {
      continue;
    }
    const lossMet = w.keepAliveLossPercent <= FORWARD_TARGETS.throughputLossPercent;
    const addedMet = w.addedMsPerRequest <= FORWARD_TARGETS.addedMsPerRequest;
    lines.push(
      `\n${w.description}: ${Math.abs(w.keepAliveLossPercent).toFixed(1)} % ${w.keepAliveLossPercent >= 0 ? 'fewer' : 'more'} requests per second (target ≤ ${FORWARD_TARGETS.throughputLossPercent} %: ${lossMet ? 'met' : 'NOT met'}), ${f3(w.addedMsPerRequest)} ms added per request (target ≤ ${FORWARD_TARGETS.addedMsPerRequest} ms: ${addedMet ? 'met' : 'NOT met'}), WebSocket echo p50 ${w.echoAddedP50Ms >= 0 ? '+' : '−'}${f3(Math.abs(w.echoAddedP50Ms))} ms`,
    );
  }
  return lines.join('\n');
}
