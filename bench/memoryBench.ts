import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createCore } from '../src/core/gitisoCore';
import type { Engine } from '../src/core/docker/engine';
import { GitServer } from '../test/support/gitServer';
import { TEST_NETWORK } from '../test/support/testEnv';
import { figures, type Figures } from './createBench';
import { generateRepo } from './generateRepo';
import type { ProbeReport, ProbeRequest } from './memoryProbe';
import { snapshotBuilt } from './snapshotWait';

export interface MemoryBenchOptions {
  readonly engine: Engine;
  readonly image: string;
  /** How many idle agents at each step, ascending (0 first: the baseline). */
  readonly steps: readonly number[];
  /** The idle run: this many agents for this long. */
  readonly idleAgents: number;
  readonly idleSeconds: number;
  /** Stats samples (2 s apart) before each reading; 3 by default. */
  readonly samples?: number;
  /** Then a wait before each reading (see ProbeRequest.settleSeconds); 30 s by default. */
  readonly settleSeconds?: number;
  readonly log?: (line: string) => void;
}

export interface MemoryStep {
  readonly agents: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** (this step − the 0-agent step) / agents. */
  readonly rssPerAgentBytes?: number;
  readonly heapPerAgentBytes?: number;
  /** Each idle agent's container (cgroup memory, page cache excluded): with its probe channel only, then with a terminal open too. */
  readonly containerBytes?: Figures;
  readonly containerWithTerminalBytes?: Figures;
}

export interface MemoryResults {
  readonly steps: MemoryStep[];
  /** The idle run: from its start, every tenth of its length. */
  readonly idle: { readonly agents: number; readonly seconds: number; readonly readings: readonly ProbeReport['loaded'][] };
}

/** The smallest limits an agent may have (agentLimits.ts), CPU aside: a tenth of a core makes creating 50 of them slow for nothing. */
const SMALLEST = { memoryBytes: 64 * 1024 ** 2, cpus: 0.5, pids: 64 };
const CREATE_CONCURRENCY = 4;

/** Runs the probe in a child process (its own heap, a forced GC) and returns its report; its progress goes to stderr. */
function probeChild(request: ProbeRequest): Promise<ProbeReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(__dirname, 'memoryProbe.js'), JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`the memory probe exited with ${code}`));
        return;
      }
      resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as ProbeReport);
    });
  });
}

/**
 * `npm run bench` (BENCH_ONLY=memory): what gitiso itself costs as idle agents
 * grow, measured in a child process that runs the core as the CLI or the
 * extension host does (listed, sampled, a terminal open per agent); what each
 * idle agent's container costs; and whether either grows over an idle run.
 */
export async function runMemoryBench(options: MemoryBenchOptions): Promise<MemoryResults> {
  const { engine, image } = options;
  const log = options.log ?? (() => undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'gitiso-bench-memory-'));
  const storageDir = join(scratch, 'home');
  const server = await GitServer.start(engine, image);
  const core = createCore({ engine, defaultImage: image, network: TEST_NETWORK, limits: SMALLEST, identity: { name: 'Bench', email: 'bench@example.com' }, storageDir });
  const made: string[] = [];
  try {
    const bare = server.barePath('memory');
    mkdirSync(dirname(bare), { recursive: true });
    generateRepo(bare, { files: 200, commits: 20 });
    const url = server.url('memory');
    // Warm: the snapshot exists before the first agent counted.
    await core.creator.create({ id: 'bench-memory-warm', repoUrl: url });
    await snapshotBuilt(engine, core, url); // the first agent's snapshot follows it
    await core.agents.remove('bench-memory-warm');

    const reports: ProbeReport[] = [];
    const grow = async (to: number): Promise<void> => {
      const ids = Array.from({ length: to - made.length }, (_, k) => `bench-mem-${made.length + k}`);
      const outcomes = await core.creator.createMany(
        ids.map((id) => ({ id, repoUrl: url })),
        { concurrency: CREATE_CONCURRENCY },
      );
      made.push(...ids);
      const failed = outcomes.find((o) => 'error' in o);
      if (failed) {
        throw new Error(`an idle agent could not be created: ${(failed as { error: Error }).error.message}`);
      }
    };
    let idleReport: ProbeReport | undefined;
    for (const agents of options.steps) {
      await grow(agents);
      reports.push(await probeChild({ image, storageDir, agents, idleSeconds: 0, samples: options.samples ?? 3, settleSeconds: options.settleSeconds ?? 30 }));
      log(`memory: ${agents} agents measured`);
      if (agents === options.idleAgents) {
        idleReport = await probeChild({ image, storageDir, agents, idleSeconds: options.idleSeconds, samples: options.samples ?? 3, settleSeconds: options.settleSeconds ?? 30 });
        log(`memory: idle run of ${options.idleSeconds} s measured`);
      }
    }
    if (!idleReport) {
      throw new Error(`the idle run needs ${options.idleAgents} among the steps`);
    }

    const base = reports.find((r) => r.agents === 0);
    const steps = reports.map((r): MemoryStep => {
      const perAgent = (value: number, baseline: number | undefined): number | undefined => (r.agents > 0 && baseline !== undefined ? (value - baseline) / r.agents : undefined);
      return {
        agents: r.agents,
        rssBytes: r.loaded.rssBytes,
        heapUsedBytes: r.loaded.heapUsedBytes,
        rssPerAgentBytes: perAgent(r.loaded.rssBytes, base?.loaded.rssBytes),
        heapPerAgentBytes: perAgent(r.loaded.heapUsedBytes, base?.loaded.heapUsedBytes),
        containerBytes: r.containerBytes.length > 0 ? figures(r.containerBytes) : undefined,
        containerWithTerminalBytes: r.containerWithTerminalBytes.length > 0 ? figures(r.containerWithTerminalBytes) : undefined,
      };
    });
    return { steps, idle: { agents: idleReport.agents, seconds: options.idleSeconds, readings: [idleReport.loaded, ...idleReport.idle] } };
  } finally {
    for (let k = 0; k < made.length; k += CREATE_CONCURRENCY * 2) {
      await Promise.all(made.slice(k, k + CREATE_CONCURRENCY * 2).map((id) => core.agents.remove(id).catch(() => undefined)));
    }
    await core.snapshots.prune(0).catch(() => undefined);
    core.dispose();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The memory tables: gitiso's process per step and per agent, the containers, the idle run. */
export function formatMemoryResults(results: MemoryResults | undefined): string {
  if (!results) {
    return '';
  }
  const mb = (bytes: number | undefined): string => (bytes === undefined ? '' : `${(bytes / 1024 ** 2).toFixed(2)} MB`);
  const range = (f: Figures | undefined): string => (f ? `${mb(f.median)} (${mb(f.min)}–${mb(f.max)})` : '');
  const { idle } = results;
  const first = idle.readings[0];
  const half = idle.readings.find((r) => first && r.atSeconds - first.atSeconds >= idle.seconds / 2);
  const last = idle.readings.at(-1);
  const change = (from: ProbeReport['loaded'] | undefined, to: ProbeReport['loaded'] | undefined): string =>
    from && to ? `RSS ${mb(to.rssBytes - from.rssBytes)}, heap ${mb(to.heapUsedBytes - from.heapUsedBytes)}` : '';
  const last50 = results.steps.at(-1);
  const base = results.steps[0];
  return [
    '',
    '## memory: gitiso (a child process: listed, sampled, a terminal per agent; after a forced GC) and each idle agent',
    '| idle agents | gitiso RSS | gitiso heap used | RSS per agent | heap per agent | agent container | agent container, terminal open |',
    '|---|---|---|---|---|---|---|',
    ...results.steps.map((s) => `| ${s.agents} | ${mb(s.rssBytes)} | ${mb(s.heapUsedBytes)} | ${mb(s.rssPerAgentBytes)} | ${mb(s.heapPerAgentBytes)} | ${range(s.containerBytes)} | ${range(s.containerWithTerminalBytes)} |`),
    '',
    last50 && base && last50.agents > 0 ? `per agent from 0 to ${last50.agents}: RSS ${mb((last50.rssBytes - base.rssBytes) / last50.agents)}, heap ${mb((last50.heapUsedBytes - base.heapUsedBytes) / last50.agents)} (target ≤ 1 MB); container idle p50 at ${last50.agents}: ${mb(last50.containerBytes?.median)} (target ≤ 5 MB)` : '',
    '',
    `idle run, ${idle.agents} agents for ${idle.seconds} s: over the whole run ${change(first, last)}; over its second half ${change(half, last)}`,
    '| at | gitiso RSS | heap used |',
    '|---|---|---|',
    ...idle.readings.map((r) => `| ${Math.round(r.atSeconds - (first?.atSeconds ?? 0))} s | ${mb(r.rssBytes)} | ${mb(r.heapUsedBytes)} |`),
  ].join('\n');
}
