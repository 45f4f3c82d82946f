import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Agent } from '../src/core/agent';
import { createCore } from '../src/core/gitisoCore';
import { Engine } from '../src/core/docker/engine';
import { StatsSampler } from '../src/core/stats/statsSampler';
import { GitServer } from '../test/support/gitServer';
import { removeAgents, TEST_LIMITS, TEST_NETWORK } from '../test/support/testEnv';

/**
 * gitiso's CPU per probe, by kind, in tight rounds: PROFILE_AGENTS agents (10)
 * with a session at work each, then PROFILE_ROUNDS rounds (50) of each kind of
 * probe across all agents, timed with process.cpuUsage() per round. Run under
 * `node --cpu-prof` to see where it goes. Frames counts the chunks the
 * engine's stream delivered to the channels (each a read and a demux).
 */

/** CPU ticks (user, system) of each of this process's threads, by thread name. */
function threadTicks(): Map<string, [number, number]> {
  const ticks = new Map<string, [number, number]>();
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = `${stat.slice(stat.indexOf('(') + 1, close)}`;
      const fields = stat.slice(close + 2).split(' ');
      const before = ticks.get(name) ?? [0, 0];
      ticks.set(name, [before[0] + Number(fields[11]), before[1] + Number(fields[12])]);
    } catch {
      // gone
    }
  }
  return ticks;
}

function ticksSince(before: Map<string, [number, number]>): string {
  const parts: string[] = [];
  for (const [name, [user, system]] of threadTicks()) {
    const [u0, s0] = before.get(name) ?? [0, 0];
    if (user - u0 + system - s0 > 0) {
      parts.push(`${name} u${user - u0} s${system - s0}`);
    }
  }
  return parts.join(', ');
}

/** The session probe's script before it read the files with the shell's own `read` (for comparison). */
const OLD_STATE_SCRIPT = `pane=$(tmux display-message -p -t gitiso '#{pane_dead} #{window_activity}' 2>/dev/null) || { echo none; exit 0; }
printf '%s\\n%s\\n%s\\n%s\\n' "$pane" "$(date +%s)" "$(head -c 4096 /run/gitiso/task.json 2>/dev/null | head -n 1)" "$(head -c 64 /run/gitiso/task-exit 2>/dev/null | head -n 1)"`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const image = process.env.GITISO_TEST_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_IMAGE is not set');
  }
  const count = Number(process.env.PROFILE_AGENTS ?? 10);
  const rounds = Number(process.env.PROFILE_ROUNDS ?? 50);
  const engine = new Engine();
  await engine.ping();
  let frames = 0;
  const demux = engine.demux.bind(engine);
  let reads = 0;
  engine.demux = (stream, onStdout, onStderr): void =>
    (stream.on('data', () => reads++),
    demux(
      stream,
      (chunk) => (frames++, onStdout(chunk)),
      (chunk) => (frames++, onStderr(chunk)),
    ));
  const prefix = `prof-${process.pid}-`;
  const storageDir = mkdtempSync(join(tmpdir(), 'gitiso-prof-'));
  const core = createCore({ engine, defaultImage: image, network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'P', email: 'p@example.com' }, storageDir });
  const server = await GitServer.start(engine, image);
  try {
    server.createRepo('prof', { 'a.txt': 'a\n' });
    const requests = Array.from({ length: count }, (_, k) => ({ id: `${prefix}${k + 1}`, repoUrl: server.url('prof') }));
    const outcomes = await core.creator.createMany(requests, { concurrency: 4, force: true });
    const agents: Agent[] = outcomes.map((outcome) => {
      if ('error' in outcome) {
        throw outcome.error;
      }
      return outcome.agent;
    });
    await Promise.all(agents.map((agent) => core.sessions.start(agent.id, { argv: ['sh', '-c', 'while :; do date; sleep 1; done'], preset: 'bench', prompt: 'p' })));
    const sampler = new StatsSampler({ exec: core.exec, engine, runningAgents: () => agents });
    const kinds: Record<string, () => Promise<unknown>> = {
      'probe true': () => Promise.all(agents.map((agent) => core.exec.probe(agent.id, ['true']))),
      'probe echo': () => Promise.all(agents.map((agent) => core.exec.probe(agent.id, ['echo', 'hi']))),
      'probe true long': () => Promise.all(agents.map((agent) => core.exec.probe(agent.id, ['true', 'x'.repeat(760)]))),
      'probe true escaped': () => Promise.all(agents.map((agent) => core.exec.probe(agent.id, ['true', ' '.repeat(150)]))),
      'probe sleep 0.5': () => Promise.all(agents.map((agent) => core.exec.probe(agent.id, ['sleep', '0.5']))),
      'sessions.state': () => Promise.all(agents.map((agent) => core.sessions.state(agent.id))),
      'state old script': () => Promise.all(agents.map((agent) => core.exec.probe(agent.id, ['sh', '-c', OLD_STATE_SCRIPT]))),
      'stats sample': () => sampler.sample(),
    };
    for (const run of Object.values(kinds)) {
      await run(); // warm: channels open, commands learned
    }
    await sleep(2_000);
    const only = process.env.PROFILE_ONLY;
    for (const [kind, run] of Object.entries(kinds)) {
      if (only && !only.split(',').includes(kind)) {
        continue;
      }
      const phaseStart = process.hrtime.bigint() / 1000n;
      const threads = threadTicks();
      const resources = process.resourceUsage();
      let cpuMicros = 0;
      let wallMs = 0;
      frames = 0;
      reads = 0;
      for (let r = 0; r < rounds; r++) {
        await sleep(100);
        const cpu = process.cpuUsage();
        const start = performance.now();
        await run();
        wallMs += performance.now() - start;
        const used = process.cpuUsage(cpu);
        cpuMicros += used.user + used.system;
      }
      const probes = rounds * agents.length;
      const after = process.resourceUsage();
      console.log(`  threads (ticks): ${ticksSince(threads)}; user ${((after.userCPUTime - resources.userCPUTime) / 1000).toFixed(0)} ms, system ${((after.systemCPUTime - resources.systemCPUTime) / 1000).toFixed(0)} ms, voluntary switches ${after.voluntaryContextSwitches - resources.voluntaryContextSwitches}, involuntary ${after.involuntaryContextSwitches - resources.involuntaryContextSwitches}`);
      console.log(`phase ${kind}: ${phaseStart} ${process.hrtime.bigint() / 1000n}`);
      console.log(`${kind.padEnd(15)} ${(cpuMicros / 1000 / probes).toFixed(3)} ms CPU/probe, ${(wallMs / rounds).toFixed(1)} ms/round, ${(frames / probes).toFixed(1)} frames/probe, ${(reads / probes).toFixed(1)} socket reads/probe`);
    }
    sampler.dispose();
  } finally {
    core.dispose();
    await removeAgents(engine, prefix).catch(() => undefined);
    await server.stop().catch(() => undefined);
    rmSync(storageDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
