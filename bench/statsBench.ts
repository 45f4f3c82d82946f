import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Agent } from '../src/core/agent';
import { createCore, type GitisoCore } from '../src/core/gitisoCore';
import { Engine } from '../src/core/docker/engine';
import type { Logger } from '../src/core/logger';
import { StatsSampler } from '../src/core/stats/statsSampler';
import { SESSION_WATCH_INTERVAL_MS, SessionWatch } from '../src/core/codingAgents/sessionWatch';
import { GitServer } from '../test/support/gitServer';
import { removeAgents, TEST_LIMITS, TEST_NETWORK } from '../test/support/testEnv';

/**
 * `npm run bench:stats`: what keeping running agents' stats and coding-agent
 * sessions current costs. For N running agents, each with a session at work,
 * a StatsSampler at its defaults (every 2 s, disk every 60 s) runs for
 * BENCH_STATS_SECONDS (default 60), then a SessionWatch at its default (every
 * 3 s) as long; the CPU time of this process and of the engine's processes
 * (dockerd, containerd, the shims) over each window is compared with a window
 * as long with the same agents and sessions and neither. BENCH_SMOKE=1 runs
 * 5 s windows with 1 and 2 agents.
 */

/** The sampler's defaults (StatsSampler), which the bench keeps. */
const INTERVAL_MS = 2_000;
const DISK_INTERVAL_MS = 60_000;
/** gitiso's own process may spend at most this much of one core keeping 20 agents' stats current. */
const TARGET_PERCENT = 1;
const TARGET_AGENTS = 20;
/** The pause between creating agents and measuring. */
const SETTLE_MS = 5_000;
/** How many agents are created at a time (the machine may have few cores). */
const CREATE_CONCURRENCY = 4;
/** The engine's processes, by the name the kernel keeps (15 characters at most: containerd-shim-runc-v2 shows as containerd-shim). */
const ENGINE_COMM = /^(dockerd|containerd|containerd-shim.*)$/;

interface EngineTicks {
  /** utime + stime, by pid. */
  readonly own: Map<number, number>;
  /** cutime + cstime (children the process waited for, such as runc), by pid. */
  readonly children: Map<number, number>;
}

interface Reading {
  readonly at: number;
  readonly cpuMicros: number;
  readonly engine: EngineTicks;
}

interface WindowFigures {
  readonly seconds: number;
  /** CPU of this process, % of one core. */
  readonly gitisoPercent: number;
  /** utime + stime of the engine's processes, % of one core. */
  readonly enginePercent: number;
  /** CPU of the children the engine's processes reaped in the window (runc), % of one core. */
  readonly engineChildrenPercent: number;
  readonly engineProcesses: number;
}

/** % of one core, a window less the idle one. */
interface NetFigures {
  readonly gitisoPercent: number;
  readonly enginePercent: number;
  readonly engineChildrenPercent: number;
}

/** What watching the agents' sessions cost (sessions window − idle window). */
interface SessionWatchFigures {
  readonly window: WindowFigures;
  readonly net: NetFigures;
  /** Probes answered with a state, and those that failed or found no session. */
  readonly probes: number;
  readonly probesWithoutState: number;
  readonly expectedProbes: number;
  /** This process's CPU per probe, ms (net of idle). */
  readonly gitisoCpuMsPerProbe: number;
}

interface RunResult {
  readonly agents: number;
  readonly createMs: number;
  /** The first sample, which opens every agent's exec channel (not in the window). */
  readonly firstSampleMs: number;
  readonly idle: WindowFigures;
  readonly sampling: WindowFigures;
  /** sampling − idle. */
  readonly net: NetFigures;
  /** This process's CPU per sample of all agents, ms (net of idle). */
  readonly gitisoCpuMsPerSample: number;
  readonly samples: number;
  readonly expectedSamples: number;
  /** Samples in which every agent's figures were fresh. */
  readonly completeSamples: number;
  readonly maxGapMs: number;
  readonly diskMeasurementsInWindow: number;
  /** Agents whose channel read failed and fell back to the engine's stats (counted from the sampler's log). */
  readonly channelFallbacks: number;
  readonly engineFailures: number;
  readonly sessions: SessionWatchFigures;
}

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/** CPU ticks of every engine process, from /proc/<pid>/stat. */
function readEngineTicks(): EngineTicks {
  const own = new Map<number, number>();
  const children = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so split at the last ')'.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (open < 0 || close < open || !ENGINE_COMM.test(stat.slice(open + 1, close))) {
      continue;
    }
    // After ')' come fields 3 (state) onwards: utime is field 14, stime 15, cutime 16, cstime 17.
    const fields = stat.slice(close + 2).split(' ');
    const field = (n: number): number => Number(fields[n - 3]) || 0;
    own.set(Number(entry), field(14) + field(15));
    children.set(Number(entry), field(16) + field(17));
  }
  return { own, children };
}

function read(): Reading {
  const usage = process.cpuUsage();
  return { at: performance.now(), cpuMicros: usage.user + usage.system, engine: readEngineTicks() };
}

/** Ticks spent between two readings by the processes alive at the end (those born in between count from zero). */
function ticksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ticks] of after) {
    sum += Math.max(0, ticks - (before.get(pid) ?? 0));
  }
  return sum;
}

function figuresBetween(before: Reading, after: Reading, ticksPerSecond: number): WindowFigures {
  const seconds = (after.at - before.at) / 1000;
  const percentOf = (cpuSeconds: number): number => (cpuSeconds / seconds) * 100;
  return {
    seconds,
    gitisoPercent: percentOf((after.cpuMicros - before.cpuMicros) / 1e6),
    enginePercent: percentOf(ticksBetween(before.engine.own, after.engine.own) / ticksPerSecond),
    engineChildrenPercent: percentOf(ticksBetween(before.engine.children, after.engine.children) / ticksPerSecond),
    engineProcesses: after.engine.own.size,
  };
}

/** A window's CPU less the idle window's: what the watching itself cost. */
function netOf(window: WindowFigures, idle: WindowFigures): NetFigures {
  return {
    gitisoPercent: window.gitisoPercent - idle.gitisoPercent,
    enginePercent: window.enginePercent - idle.enginePercent,
    engineChildrenPercent: window.engineChildrenPercent - idle.engineChildrenPercent,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts the sampler's complaints: a failed channel read (it falls back to the engine) or a failed engine read. */
function countingLogger(): Logger & { channelFallbacks: number; engineFailures: number } {
  const logger = {
    channelFallbacks: 0,
    engineFailures: 0,
    trace: () => undefined,
    debug: (message: string) => {
      if (/through its channel/.test(message)) {
        logger.channelFallbacks++;
      } else if (/from the engine|disk of agents/.test(message)) {
        logger.engineFailures++;
      }
    },
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  return logger;
}

/**
 * With `agents` running: a window of `seconds` with no sampler, then one with
 * the sampler at its defaults. The sampler is started half an interval before
 * its window, so the window holds whole samples, and is told to measure disk
 * at its first sample inside it (which it then does again only after 60 s).
 */
async function measureAgents(service: GitisoCore, agents: readonly Agent[], seconds: number, ticksPerSecond: number): Promise<Omit<RunResult, 'agents' | 'createMs' | 'sessions'>> {
  const log = countingLogger();
  const sampler = new StatsSampler({ exec: service.exec, engine: service.engine, runningAgents: () => agents, log });
  try {
    // Warm: opens every agent's exec channel and takes the first readings.
    const firstStarted = performance.now();
    await sampler.sample();
    const firstSampleMs = performance.now() - firstStarted;
    // Let what creating the agents set going (boots, background pruning) die down first.
    await sleep(SETTLE_MS);

    const idleStart = read();
    await sleep(seconds * 1000);
    const idle = figuresBetween(idleStart, read(), ticksPerSecond);

    const fires: number[] = [];
    let completeSamples = 0;
    let counting = false;
    const subscription = sampler.onDidSample((latest) => {
      if (!counting) {
        return;
      }
      const now = Date.now();
      fires.push(performance.now());
      if (agents.every((agent) => (latest.get(agent.id)?.sampledAt ?? 0) >= now - INTERVAL_MS / 2)) {
        completeSamples++;
      }
    });
    log.channelFallbacks = 0;
    log.engineFailures = 0;
    sampler.setActive(true);
    await sleep(INTERVAL_MS / 2);
    sampler.measureDiskSoon();
    counting = true;
    const start = read();
    await sleep(seconds * 1000);
    const end = read();
    counting = false;
    sampler.setActive(false);
    subscription.dispose();
    const sampling = figuresBetween(start, end, ticksPerSecond);
    // Let a sample still under way finish (outside the window).
    await sampler.sample();

    const points = [start.at, ...fires, end.at];
    const gaps = points.slice(1).map((at, k) => at - (points[k] as number));
    const net = netOf(sampling, idle);
    return {
      firstSampleMs,
      idle,
      sampling,
      net,
      gitisoCpuMsPerSample: fires.length > 0 ? ((net.gitisoPercent / 100) * sampling.seconds * 1000) / fires.length : Number.NaN,
      samples: fires.length,
      expectedSamples: Math.floor((seconds * 1000) / INTERVAL_MS),
      completeSamples,
      maxGapMs: Math.max(...gaps),
      diskMeasurementsInWindow: Math.ceil((seconds * 1000 - INTERVAL_MS / 2) / DISK_INTERVAL_MS),
      channelFallbacks: log.channelFallbacks,
      engineFailures: log.engineFailures,
    };
  } finally {
    sampler.dispose();
  }
}

/** What the window's SessionWatch does: one probe per running agent every 3 s, counted as they answer. */
async function measureSessionWatch(service: GitisoCore, agents: readonly Agent[], idle: WindowFigures, seconds: number, ticksPerSecond: number): Promise<SessionWatchFigures> {
  let probes = 0;
  let probesWithoutState = 0;
  let counting = false;
  const sessions = {
    state: async (agentId: string) => {
      const state = await service.sessions.state(agentId);
      if (counting) {
        probes++;
        probesWithoutState += state ? 0 : 1;
      }
      return state;
    },
  };
  const ids = agents.map((agent) => agent.id);
  const watch = new SessionWatch({ sessions, runningAgents: () => ids });
  try {
    // Warm, as the stats: the probe channels are open already (the sampler's first sample opened them).
    await watch.refresh();
    counting = true;
    const start = read();
    watch.setActive(true);
    await sleep(seconds * 1000);
    const end = read();
    watch.setActive(false);
    counting = false;
    await watch.refresh();
    const window = figuresBetween(start, end, ticksPerSecond);
    const net = netOf(window, idle);
    return {
      window,
      net,
      probes,
      probesWithoutState,
      expectedProbes: (Math.floor((seconds * 1000) / SESSION_WATCH_INTERVAL_MS) + 1) * agents.length,
      gitisoCpuMsPerProbe: probes > 0 ? ((net.gitisoPercent / 100) * window.seconds * 1000) / probes : Number.NaN,
    };
  } finally {
    watch.dispose();
  }
}

/** A coding agent at work in each new agent's session: it prints a line a second, so every probe finds it working. */
async function startSessions(service: GitisoCore, agents: readonly Agent[]): Promise<void> {
  await Promise.all(agents.map((agent) => service.sessions.start(agent.id, { argv: ['sh', '-c', 'while :; do date; sleep 1; done'], preset: 'bench', prompt: 'keep printing' })));
}

const pct = (value: number): string => `${value.toFixed(2)} %`;

function formatSessionTable(results: readonly RunResult[], seconds: number): string {
  const lines = [
    `\nSession watch cost: one probe per agent every ${SESSION_WATCH_INTERVAL_MS / 1000} s, each agent's session at work, ${seconds} s windows; % of one core, watching − idle\n`,
    '| agents | probes (expected) | without a state | gitiso % | gitiso raw / idle | per probe | engine % | engine children % |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const s = r.sessions;
    lines.push(
      `| ${r.agents} | ${s.probes} (${s.expectedProbes}) | ${s.probesWithoutState} | ${pct(s.net.gitisoPercent)} | ${pct(s.window.gitisoPercent)} / ${pct(r.idle.gitisoPercent)} | ${s.gitisoCpuMsPerProbe.toFixed(2)} ms | ${pct(s.net.enginePercent)} | ${pct(s.net.engineChildrenPercent)} |`,
    );
  }
  return lines.join('\n');
}

function formatTable(results: readonly RunResult[], seconds: number): string {
  const lines = [
    `\nStats sampling cost: sampler every ${INTERVAL_MS / 1000} s, disk every ${DISK_INTERVAL_MS / 1000} s, ${seconds} s windows; % of one core, sampling − idle (same agents, no sampler)\n`,
    '| agents | samples (expected) | all fresh | max gap | gitiso % | gitiso raw / idle | per sample | engine % | engine raw / idle | engine children % |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.agents} | ${r.samples} (${r.expectedSamples}) | ${r.completeSamples} | ${(r.maxGapMs / 1000).toFixed(2)} s | ${pct(r.net.gitisoPercent)} | ${pct(r.sampling.gitisoPercent)} / ${pct(r.idle.gitisoPercent)} | ${r.gitisoCpuMsPerSample.toFixed(2)} ms | ${pct(r.net.enginePercent)} | ${pct(r.sampling.enginePercent)} / ${pct(r.idle.enginePercent)} | ${pct(r.net.engineChildrenPercent)} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const image = process.env.GITISO_TEST_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_IMAGE is not set: run `npm run bench:stats`, which builds the image');
  }
  const smoke = process.env.BENCH_SMOKE === '1';
  const seconds = smoke ? 5 : Number(process.env.BENCH_STATS_SECONDS ?? 60);
  const counts = smoke ? [1, 2] : [1, 10, TARGET_AGENTS];
  if (!(seconds >= 2 && seconds <= 3_600)) {
    throw new Error('BENCH_STATS_SECONDS must be between 2 and 3600');
  }
  const ticksPerSecond = clockTicksPerSecond();

  const engine = new Engine();
  await engine.ping();
  const prefix = `bench-stats-${process.pid}-`;
  const storageDir = mkdtempSync(join(tmpdir(), 'gitiso-bench-stats-'));
  const service = createCore({ engine, defaultImage: image, network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'Bench', email: 'bench@example.com' }, storageDir });
  let server: GitServer | undefined;
  const cleanUp = async (): Promise<void> => {
    service.dispose();
    await removeAgents(engine, prefix).catch((error: unknown) => console.error(`bench:stats: removing agents: ${(error as Error).message}`));
    await service.snapshots.prune(0).catch(() => undefined);
    await server?.stop().catch(() => undefined);
    rmSync(storageDir, { recursive: true, force: true });
  };
  // Ctrl-C skips `finally`: remove what the bench made on the way out all the same.
  const onSignal = (): void => {
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    server = await GitServer.start(engine, image);
    server.createRepo('stats', { 'src/index.ts': 'export const answer = 42;\n', 'package.json': '{ "name": "stats" }\n' });
    const repoUrl = server.url('stats');
    const engineProcesses = readEngineTicks().own.size;
    console.error(`engine processes seen in /proc: ${engineProcesses}${engineProcesses === 0 ? ' (engine not on this host: engine figures are 0)' : ''}; ${ticksPerSecond} clock ticks/s`);

    const agents: Agent[] = [];
    const results: RunResult[] = [];
    for (const n of counts) {
      // More agents on top of those of the last round.
      const requests = Array.from({ length: n - agents.length }, (_, k) => ({ id: `${prefix}${agents.length + k + 1}`, repoUrl }));
      const createStarted = performance.now();
      const outcomes = await service.creator.createMany(requests, { concurrency: CREATE_CONCURRENCY, force: true });
      const createMs = performance.now() - createStarted;
      for (const outcome of outcomes) {
        if ('error' in outcome) {
          throw new Error(`creating agent ${outcome.id} failed: ${outcome.error.message}`);
        }
        agents.push(outcome.agent);
      }
      await startSessions(service, agents.slice(agents.length - requests.length));
      console.error(`${n} agent(s) running with a session each (${requests.length} created in ${Math.round(createMs)} ms); measuring ${seconds} s idle, ${seconds} s sampling, then ${seconds} s watching sessions`);
      const measured = await measureAgents(service, agents, seconds, ticksPerSecond);
      const sessions = await measureSessionWatch(service, agents, measured.idle, seconds, ticksPerSecond);
      results.push({ agents: n, createMs, ...measured, sessions });
      console.error(`  ${n} agent(s): stats: gitiso ${pct(measured.net.gitisoPercent)}, engine ${pct(measured.net.enginePercent)}, ${measured.samples} samples; sessions: gitiso ${pct(sessions.net.gitisoPercent)}, engine ${pct(sessions.net.enginePercent)}, ${sessions.probes} probes`);
    }

    const atTarget = results.find((r) => r.agents === TARGET_AGENTS);
    const met = atTarget ? atTarget.net.gitisoPercent <= TARGET_PERCENT : undefined;
    const sessionsMet = atTarget ? atTarget.sessions.net.gitisoPercent <= TARGET_PERCENT : undefined;
    console.log(formatTable(results, seconds));
    console.log(formatSessionTable(results, seconds));
    const verdict = (percent: number | undefined, ok: boolean | undefined): string => (percent === undefined ? `not measured (smoke run: up to ${counts.at(-1)} agents)` : `${ok ? 'met' : 'NOT met'} (${pct(percent)})`);
    console.log(`\ntarget: gitiso's process ≤ ${TARGET_PERCENT} % of one core with ${TARGET_AGENTS} agents: stats ${verdict(atTarget?.net.gitisoPercent, met)}; sessions ${verdict(atTarget?.sessions.net.gitisoPercent, sessionsMet)}`);
    const fallbacks = results.reduce((sum, r) => sum + r.channelFallbacks, 0);
    if (fallbacks > 0) {
      console.log(`note: ${fallbacks} agent read(s) fell back from the exec channel to the engine's stats`);
    }

    const dir = join(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `stats-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    const summary = {
      machine: { cores: cpus().length, node: process.version, clockTicksPerSecond: ticksPerSecond, engineProcesses },
      settings: { seconds, agentCounts: counts, intervalMs: INTERVAL_MS, diskIntervalMs: DISK_INTERVAL_MS, limits: TEST_LIMITS, smoke },
      target: { gitisoPercentOfOneCore: TARGET_PERCENT, agents: TARGET_AGENTS, measured: atTarget?.net.gitisoPercent, met, sessions: atTarget?.sessions.net.gitisoPercent, sessionsMet },
      results,
    };
    writeFileSync(file, JSON.stringify(summary, null, 2));
    console.log(`\nresults: ${file}`);
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().catch((error: unknown) => {
  console.error(`bench:stats: ${(error as Error).message}`);
  process.exitCode = 1;
});
