import { isRunning } from '../src/core/agent';
import { AgentsModel } from '../src/core/agentsModel';
import { Engine } from '../src/core/docker/engine';
import type { InteractiveExec } from '../src/core/docker/interactiveExec';
import { createCore } from '../src/core/gitisoCore';
import { StatsSampler } from '../src/core/stats/statsSampler';
import { TEST_NETWORK } from '../test/support/testEnv';

/**
 * The child process of the memory bench (run with --expose-gc): a core as the
 * CLI or the extension host runs it, with its agents listed (AgentsModel),
 * sampled (StatsSampler, at its defaults) and an interactive terminal open in
 * each; then its own memory after a forced GC, and each agent's as the sampler
 * read it. With `idleSeconds`, the same again after that long idle. One JSON
 * object on stdout: a reading per point in time.
 */
export interface ProbeRequest {
  readonly image: string;
  readonly storageDir: string;
  /** How many agents must be listed before anything is read. */
  readonly agents: number;
  readonly idleSeconds: number;
  /** Samples taken before the first reading. */
  readonly samples: number;
  /**
   * Then a wait, sampling on, before the reading: opening every channel and
   * terminal at once leaves garbage that V8 and the allocator give back only
   * some seconds later (20 agents read 82 MB at once, 68 MB a minute later).
   */
  readonly settleSeconds: number;
}

export interface ProcessMemory {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly externalBytes: number;
  readonly atSeconds: number;
}

export interface ProbeReport {
  readonly agents: number;
  /** Right after the core is made, before any agent is listed. */
  readonly empty: ProcessMemory;
  /** Listed, sampled, terminals open. */
  readonly loaded: ProcessMemory;
  /** Every tenth of idleSeconds, still sampling with terminals open (the stats' histories fill in their first 5 minutes, then stay as long). */
  readonly idle: readonly ProcessMemory[];
  /** Each agent's memory (cgroup, page cache excluded), before and after its terminal opened. */
  readonly containerBytes: readonly number[];
  readonly containerWithTerminalBytes: readonly number[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function measure(started: number): ProcessMemory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    throw new Error('run with --expose-gc');
  }
  gc();
  gc();
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, externalBytes: usage.external, atSeconds: (performance.now() - started) / 1000 };
}

async function probe(request: ProbeRequest): Promise<ProbeReport> {
  const started = performance.now();
  const engine = new Engine();
  await engine.ping();
  const core = createCore({ engine, defaultImage: request.image, network: TEST_NETWORK, storageDir: request.storageDir });
  const model = new AgentsModel({ agents: core.agents, creator: core.creator, engine });
  const sampler = new StatsSampler({ exec: core.exec, engine, runningAgents: () => model.agents.filter(isRunning) });
  const empty = measure(started);
  model.start();
  while (model.agents.filter(isRunning).length < request.agents) {
    await sleep(100);
  }
  const readContainers = async (): Promise<number[]> => [...(await sampler.sample()).values()].map((s) => s.memoryBytes);
  const containerBytes = await readContainers();
  const terminals: InteractiveExec[] = [];
  for (const agent of model.agents.filter(isRunning)) {
    const terminal = await core.exec.openInteractive(agent.containerId);
    terminal.onData(() => undefined); // as a terminal reads its output
    terminals.push(terminal);
  }
  sampler.setActive(true);
  for (let k = 0; k < request.samples; k++) {
    await sampler.sample();
    await sleep(2_000);
  }
  const containerWithTerminalBytes = await readContainers();
  await sleep(request.settleSeconds * 1000);
  const loaded = measure(started);
  const idle: ProcessMemory[] = [];
  for (let k = 0; k < (request.idleSeconds > 0 ? 10 : 0); k++) {
    await sleep(request.idleSeconds * 100);
    idle.push(measure(started));
    const last = idle.at(-1) as ProcessMemory;
    console.error(`memory probe: idle ${Math.round(last.atSeconds)} s: RSS ${(last.rssBytes / 1024 ** 2).toFixed(2)} MB, heap ${(last.heapUsedBytes / 1024 ** 2).toFixed(2)} MB`);
  }
  sampler.dispose();
  for (const terminal of terminals) {
    terminal.dispose();
  }
  model.dispose();
  core.dispose();
  // What was listed: leftovers of others on the engine would count too, and must show.
  return { agents: model.agents.filter(isRunning).length, empty, loaded, idle, containerBytes, containerWithTerminalBytes };
}

probe(JSON.parse(process.argv[2] ?? '{}') as ProbeRequest).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(`memory probe: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
