import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeTestCertificates } from '../test/support/testCertificates';
import { makeTempDir, removeDir } from '../test/support/testEnv';
import { median, percentile } from './httpLoad';

/**
 * What the API proxy adds to an agent's API calls, against the same calls
 * made directly to the API (with the key, over HTTPS), in one run: time to
 * the first byte of a streamed answer (requests alternating between the two
 * ways, keep-alive connections as API clients keep them) and the rate a long
 * stream is read at (rounds alternating, the ratio taken per round). The
 * API and the proxy run in processes of their own. A third way is relayed
 * (a listening ConnectionMux), as an agent on another engine reaches the proxy, with
 * its listener as a process here: the relay's own cost, without the
 * engine's exec. BENCH_SMOKE=1 makes it tiny.
 */
// A relayed stream need not keep up with the listening proxy: an API streams tokens at kilobytes a second.
export const API_PROXY_TARGETS = { addedFirstByteMs: 1, throughputLossPercent: 5, relayAddedFirstByteMs: 2, relayThroughputRatio: 0.25 } as const;

interface Way {
  readonly name: 'direct' | 'proxy' | 'relay';
  readonly send: (options: RequestOptions, onResponse: (res: IncomingMessage) => void) => ReturnType<typeof httpRequest>;
  readonly options: RequestOptions;
}

interface Started {
  readonly port: number;
  readonly key?: string;
  readonly token?: string;
  readonly relayPort?: number;
  readonly relayToken?: string;
}

function started(role: string, args: string[]): Promise<{ child: ChildProcess; message: Started }> {
  const child = fork(join(__dirname, 'apiProxyBenchServers.js'), [role, ...args], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, message: message as Started }));
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

/** The proxy process's CPU time so far, in µs. */
function cpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve((message as { cpuMicros: number }).cpuMicros));
    child.send('cpu');
  });
}

/** Milliseconds to the first byte of the answer, and then to its end; bytes read. */
function exchange(way: Way, path: string): Promise<{ firstByteMs: number; totalMs: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let firstByteMs = Number.NaN;
    let bytes = 0;
    const req = way.send({ ...way.options, path: `${way.options.path}${path}`, method: 'POST' }, (res) => {
      res.on('data', (chunk: Buffer) => {
        if (bytes === 0) {
          firstByteMs = performance.now() - start;
        }
        bytes += chunk.length;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve({ firstByteMs, totalMs: performance.now() - start, bytes }) : reject(new Error(`${way.name}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end('{"stream":true}');
  });
}

export async function runApiProxyBench(log: (line: string) => void = console.log): Promise<{ addedFirstByteMs: number; throughputLossPercent: number; relayAddedFirstByteMs: number; relayThroughputRatio: number }> {
  const smoke = process.env.BENCH_SMOKE === '1';
  const samples = smoke ? 50 : 1000;
  const rounds = smoke ? 3 : 9;
  const streamBytes = (smoke ? 16 : 256) * 1024 * 1024;
  const dir = makeTempDir('apiproxy-bench');
  const children: ChildProcess[] = [];
  try {
    makeTestCertificates(dir);
    const upstream = await started('upstream', [dir]);
    children.push(upstream.child);
    const upstreamUrl = `https://localhost:${upstream.message.port}`;
    const proxy = await started('proxy', [dir, upstreamUrl]);
    children.push(proxy.child);
    const ways: Way[] = [
      { name: 'direct', send: httpsRequest, options: { host: 'localhost', port: upstream.message.port, path: '/v1', headers: { 'x-api-key': upstream.message.key }, agent: new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: readFileSync(join(dir, 'ca.pem')) }) } },
      { name: 'proxy', send: httpRequest, options: { host: '127.0.0.1', port: proxy.message.port, path: '/api', headers: { 'x-api-key': proxy.message.token }, agent: new HttpAgent({ keepAlive: true, maxSockets: 1 }) } },
      { name: 'relay', send: httpRequest, options: { host: '127.0.0.1', port: proxy.message.relayPort, path: '/api', headers: { 'x-api-key': proxy.message.relayToken }, agent: new HttpAgent({ keepAlive: true, maxSockets: 1 }) } },
    ];
    // Warm up connections, TLS sessions and the JIT on both ways.
    for (let i = 0; i < 100; i++) {
      for (const way of ways) {
        await exchange(way, '/first');
      }
    }
    const firstByte: Record<Way['name'], number[]> = { direct: [], proxy: [], relay: [] };
    const cpuBefore = await cpuMicros(proxy.child);
    for (let i = 0; i < samples; i++) {
      for (const way of i % 2 ? ways : [...ways].reverse()) {
        firstByte[way.name].push((await exchange(way, '/first')).firstByteMs);
      }
    }
    // Each sample makes one request on each proxied way.
    const cpuPerRequest = ((await cpuMicros(proxy.child)) - cpuBefore) / samples / 2;
    const rates: Record<Way['name'], number[]> = { direct: [], proxy: [], relay: [] };
    const losses: number[] = [];
    const relayRatios: number[] = [];
    const cpuBeforeStreams = await cpuMicros(proxy.child);
    for (let round = 0; round < rounds; round++) {
      const rate: Partial<Record<Way['name'], number>> = {};
      for (const way of round % 2 ? ways : [...ways].reverse()) {
        const result = await exchange(way, `/stream?bytes=${streamBytes}`);
        rate[way.name] = result.bytes / 1024 / 1024 / (result.totalMs / 1000);
        rates[way.name].push(rate[way.name] ?? 0);
      }
      losses.push(100 * (1 - (rate.proxy ?? 0) / (rate.direct ?? 1)));
      relayRatios.push((rate.relay ?? 0) / (rate.proxy ?? 1));
    }
    // Both proxied ways stream through the proxy's process.
    const cpuPerMiB = ((await cpuMicros(proxy.child)) - cpuBeforeStreams) / rounds / 2 / (streamBytes / 1024 / 1024);
    const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
    const addedFirstByteMs = median(firstByte.proxy) - median(firstByte.direct);
    const throughputLossPercent = median(losses);
    const relayAddedFirstByteMs = median(firstByte.relay) - median(firstByte.proxy);
    const relayThroughputRatio = median(relayRatios);
    log(`API proxy (${samples} first-byte samples per way, ${rounds} rounds of ${streamBytes / 1024 / 1024} MiB streamed)`);
    log('| way | first byte median (ms) | p90 | p99 | streamed MiB/s (median, min–max) |');
    log('|---|---|---|---|---|');
    for (const way of ways) {
      const values = sorted(firstByte[way.name]);
      const wayRates = sorted(rates[way.name]);
      log(`| ${way.name} | ${median(values).toFixed(3)} | ${percentile(values, 0.9).toFixed(3)} | ${percentile(values, 0.99).toFixed(3)} | ${median(wayRates).toFixed(0)} (${wayRates[0]?.toFixed(0)}–${wayRates.at(-1)?.toFixed(0)}) |`);
    }
    log(`added to first byte: ${addedFirstByteMs.toFixed(3)} ms (target ≤ ${API_PROXY_TARGETS.addedFirstByteMs} ms); streamed throughput lost: ${throughputLossPercent.toFixed(1)} % (median of per-round ratios, min–max ${Math.min(...losses).toFixed(1)}–${Math.max(...losses).toFixed(1)}; target ≤ ${API_PROXY_TARGETS.throughputLossPercent} %)`);
    log(`relayed (an agent the proxy cannot listen for), against the proxy listening: ${relayAddedFirstByteMs.toFixed(3)} ms more to first byte (target ≤ ${API_PROXY_TARGETS.relayAddedFirstByteMs} ms); streamed throughput ${relayThroughputRatio.toFixed(2)}× the listening proxy's (median of per-round ratios, min–max ${Math.min(...relayRatios).toFixed(2)}–${Math.max(...relayRatios).toFixed(2)}; target ≥ ${API_PROXY_TARGETS.relayThroughputRatio}×); an engine's exec adds its own`);
    log(`the proxy's CPU time: ${cpuPerRequest.toFixed(0)} µs per request, ${cpuPerMiB.toFixed(0)} µs per MiB streamed (load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)`);
    return { addedFirstByteMs, throughputLossPercent, relayAddedFirstByteMs, relayThroughputRatio };
  } finally {
    for (const child of children) {
      child.kill();
    }
    removeDir(dir);
  }
}

if (require.main === module) {
  runApiProxyBench().then(() => process.exit(0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
