import { confinement } from '../src/core/docker/containerSpec';
import { Engine } from '../src/core/docker/engine';
import { AgentNetwork } from '../src/core/network/agentNetwork';
import { BRIDGE_OPTION } from '../src/core/network/networkSetting';
import { TEST_LABEL } from '../test/support/testEnv';
import { figures, type Figures } from './createBench';

/**
 * `npm run bench:network`: what isolating agents from each other costs when
 * one is created, one way against the other, alternated: every agent on
 * gitiso's one network with inter-container communication off, or a network
 * made (and removed) per agent; the engine's default bridge (no isolation)
 * is the floor. A container that only sleeps, so the figures are the
 * network's part. BENCH_REPS sets the repetitions (default 10); BENCH_SMOKE=1
 * runs a tiny version.
 */
interface Way {
  readonly name: string;
  /** Made and started; returns how to remove it all. */
  make(n: number): Promise<() => Promise<void>>;
}

interface WayResult {
  readonly name: string;
  readonly createMs: Figures;
  readonly removeMs: Figures;
  /** Five made at once: until all run. */
  readonly burstMs: Figures;
}

async function timed(body: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await body();
  return performance.now() - started;
}

export async function runNetworkBench(engine: Engine, image: string, repetitions: number): Promise<WayResult[]> {
  const prefix = `gitiso-bench-net-${process.pid}`;
  const startSleeper = async (name: string, networkMode: string): Promise<string> => {
    const id = await engine.createContainer({ name, Image: image, Cmd: ['sleep', 'infinity'], Labels: { [TEST_LABEL]: 'bench' }, HostConfig: { Init: true, NetworkMode: networkMode, ...confinement() } });
    await engine.startContainer(id);
    return id;
  };
  const shared = new AgentNetwork({ engine });
  const ways: Way[] = [
    {
      name: 'one network, ICC off (gitiso)',
      async make(n) {
        const id = await startSleeper(`${prefix}-shared-${n}`, await shared.resolve());
        return () => engine.removeContainer(id);
      },
    },
    {
      name: 'a network per agent',
      async make(n) {
        const network = await engine.createNetwork({ Name: `${prefix}-own-${n}`, Driver: 'bridge', Labels: { [TEST_LABEL]: 'bench' }, Options: { [BRIDGE_OPTION.icc]: 'false' } });
        const id = await startSleeper(`${prefix}-own-${n}`, network);
        return async () => {
          await engine.removeContainer(id);
          await engine.removeNetwork(network);
        };
      },
    },
    {
      name: 'default bridge (no isolation: the floor)',
      async make(n) {
        const id = await startSleeper(`${prefix}-bridge-${n}`, 'bridge');
        return () => engine.removeContainer(id);
      },
    },
  ];
  // Warm: the image's layers and gitiso's network exist before anything is timed.
  for (const way of ways) {
    await (await way.make(-1))();
  }
  const samples = new Map(ways.map((way) => [way.name, { create: [] as number[], remove: [] as number[], burst: [] as number[] }]));
  let n = 0;
  for (let rep = 0; rep < repetitions; rep++) {
    for (const way of rep % 2 ? [...ways].reverse() : ways) {
      const sample = samples.get(way.name);
      let remove: () => Promise<void> = async () => undefined;
      sample?.create.push(await timed(async () => void (remove = await way.make(n++))));
      sample?.remove.push(await timed(remove));
    }
  }
  for (let rep = 0; rep < Math.max(1, Math.floor(repetitions / 3)); rep++) {
    for (const way of ways) {
      let removes: (() => Promise<void>)[] = [];
      samples.get(way.name)?.burst.push(await timed(async () => void (removes = await Promise.all(Array.from({ length: 5 }, () => way.make(n++))))));
      await Promise.all(removes.map((remove) => remove()));
    }
  }
  return ways.map((way) => {
    const sample = samples.get(way.name) ?? { create: [], remove: [], burst: [] };
    return { name: way.name, createMs: figures(sample.create), removeMs: figures(sample.remove), burstMs: figures(sample.burst) };
  });
}

export function formatNetworkResults(results: readonly WayResult[]): string {
  const spread = (f: Figures): string => `${Math.round(f.median)} ms (${Math.round(f.min)}–${Math.round(f.max)})`;
  return [
    '| way | create + start | remove | 5 at once |',
    '|---|---|---|---|',
    ...results.map((r) => `| ${r.name} | ${spread(r.createMs)} | ${spread(r.removeMs)} | ${spread(r.burstMs)} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const image = process.env.GITISO_TEST_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_IMAGE is not set: run `npm run bench:network`, which builds the image');
  }
  const engine = new Engine();
  await engine.ping();
  const repetitions = process.env.BENCH_SMOKE === '1' ? 1 : Number(process.env.BENCH_REPS ?? 10);
  console.log(formatNetworkResults(await runNetworkBench(engine, image, repetitions)));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
