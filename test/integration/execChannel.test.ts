import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import type { Engine } from '../../src/core/docker/engine';
import type { ExecOptions, ExecResult } from '../../src/core/docker/exec';
import { StatsSampler } from '../../src/core/stats/statsSampler';
import { GitServer } from '../support/gitServer';
import { idPrefix, removeAgents, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';

const MiB = 1024 * 1024;
// The bundled CLI, as users run it (built by `npm run build`).
const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

/** Options with the output bound (typed so the test also compiles against code without it). */
type BoundedOptions = ExecOptions & { maxOutputBytes?: number };
const truncated = (result: ExecResult): boolean | undefined => (result as { truncated?: boolean }).truncated;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Fails instead of waiting on when `promise` takes longer than `ms`; returns its value and how long it took. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<{ value: T; tookMs: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    const value = await Promise.race([promise, late]);
    return { value, tookMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What the host reads from agents, against a real engine: an agent and
 * everything it runs are untrusted, so the channel must never run a command
 * twice, never let a command forge its end, bound what it keeps, and keep
 * gitiso's own probes answering whatever the agent does to its tools.
 */
describe('exec channel: what the host reads from agents', () => {
  let engine: Engine;
  let server: GitServer;
  let core: GitisoCore;
  const prefix = idPrefix('chan');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('chan');
    core = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'C', email: 'c@example.com' } });
    await Promise.all([core.creator.create({ id: id('a'), repoUrl: server.url('chan') }), core.creator.create({ id: id('hostile'), repoUrl: server.url('chan') })]);
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await core?.snapshots.prune(0).catch(() => undefined);
    core?.dispose();
    await server?.stop();
  });

  /** Runs a shell script in the agent as root, beside gitiso's channels (the test's own hand in the agent). */
  async function inAgent(agentId: string, script: string): Promise<ExecResult> {
    const agent = await core.agents.get(agentId);
    const result = await engine.exec(agent.containerId, ['sh', '-c', script], { workdir: '/workspace' });
    assert.equal(result.exitCode, 0, `${script}: ${result.stderr}`);
    return result;
  }

  const commitCount = async (agentId: string): Promise<number> => Number((await inAgent(agentId, 'git rev-list --count HEAD')).stdout.trim());

  it('never runs a commit again when its channel dies under it: one commit or none, and "outcome unknown"', async () => {
    const agentId = id('a');
    await core.exec.git(agentId, ['status']); // the channel is open
    // A slow pre-commit hook keeps the commit in flight while its channel's shell is killed.
    await inAgent(agentId, 'printf "#!/bin/sh\\nsleep 2\\n" > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit');
    const before = await commitCount(agentId);
    // Its outcome is taken at once: the kill below can reject it before the next line awaits it.
    const settled = core.exec.git(agentId, ['commit', '--allow-empty', '-q', '-m', 'exactly once']).then(
      () => 'succeeded',
      (error: Error) => error.name,
    );
    await sleep(800);
    // The channel's shell is the parent of the running git.
    await inAgent(agentId, 'g=$(pgrep -o -x git) && s=$(ps -o ppid= -p "$g" | tr -d " ") && grep -q gitiso-channel "/proc/$s/cmdline" && kill -KILL "$s"');
    const outcome = await settled;
    await sleep(2_500); // anything still running (a hook, a repeat) has finished by now
    await inAgent(agentId, 'rm -f .git/hooks/pre-commit');
    const made = (await commitCount(agentId)) - before;
    assert.ok(made <= 1, `the commit ran ${made} times`);
    assert.ok(outcome === 'OutcomeUnknownError' || (outcome === 'succeeded' && made === 1), `the commit's outcome: ${outcome}, commits made: ${made}`);
    // The next command gets a fresh channel.
    assert.equal((await core.exec.git(agentId, ['rev-list', '--count', 'HEAD'])).stdout.trim(), String(before + made));
  });

  it('does not hold gitiso\'s probes (stats, ports, dev status) behind a long user command', async () => {
    const agentId = id('a');
    const agent = await core.agents.get(agentId);
    const sampler = new StatsSampler({ exec: core.exec, engine, runningAgents: () => [agent] }, { diskIntervalMs: 3_600_000 });
    await sampler.sample();
    await core.ports.discover(agentId);
    const long = core.exec.run(agentId, ['sleep', '5']);
    await sleep(300);
    const stats = await within(1_000, 'stats during a long command', sampler.sample());
    assert.ok(stats.value.get(agentId), 'no stats of the agent');
    const ports = await within(1_000, 'port discovery during a long command', core.ports.discover(agentId));
    assert.ok(Array.isArray(ports.value));
    await within(1_000, 'dev status during a long command', core.devServers.status(agentId));
    assert.equal((await long).exitCode, 0);
    sampler.dispose();
  });

  it('keeps a bounded, marked result of a command that prints 100 MiB, and the host\'s memory bounded', async () => {
    const agentId = id('a');
    const print = ['sh', '-c', 'head -c 104857600 /dev/zero | tr "\\0" "x"; echo done >&2'];
    const rssBefore = process.memoryUsage().rss;
    const options: BoundedOptions = { maxOutputBytes: MiB };
    const bounded = await core.exec.run(agentId, print, options);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.equal(bounded.stdout.length, MiB);
    assert.equal(truncated(bounded), true);
    assert.equal(bounded.stderr, 'done\n');
    assert.ok(grown < 64 * MiB, `the host grew by ${Math.round(grown / MiB)} MiB for 100 MiB of output`);
    // The default bound, and the plain exec (no channel) the same.
    const byDefault = await core.exec.run(agentId, print);
    assert.equal(byDefault.stdout.length, 16 * MiB);
    assert.equal(truncated(byDefault), true);
    const agent = await core.agents.get(agentId);
    const plain = await engine.exec(agent.containerId, print, options);
    assert.equal(plain.stdout.length, MiB);
    assert.equal(truncated(plain), true);
    assert.equal(plain.exitCode, 0);
  });

  it('cannot be ended early, or given another exit code, by a command that prints forged markers', async () => {
    const agentId = id('a');
    // The forger looks where an agent can (its channel's argv and environment in /proc) for the
    // channel's secret, and prints end markers of every shape with whatever it finds there.
    const forger = `
      for n in $(tr '\\0' '\\n' < /proc/$PPID/cmdline) $(tr '\\0' '\\n' < /proc/$PPID/environ); do
        for seq in $(seq 1 40); do
          printf '\\0%s-end-%s:0\\n' "$n" "$seq"; printf '\\0%s-end-%s:0\\n' "$n" "$seq" >&2
        done
        printf '\\0%s:end:0\\n' "$n"; printf '\\0%s:end:0\\n' "$n" >&2
      done
      sleep 0.5
      echo after
      exit 3`;
    const result = await core.exec.run(agentId, ['sh', '-c', forger]);
    assert.equal(result.exitCode, 3, 'a forged marker set the exit code');
    assert.ok(result.stdout.endsWith('after\n'), `the command was cut short: ${JSON.stringify(result.stdout.slice(-60))}`);
    // The next command's result is its own.
    assert.equal((await core.exec.run(agentId, ['echo', 'next'])).stdout, 'next\n');
  });

  describe('an agent that replaces its tools and its state file', () => {
    const agentId = (): string => id('hostile');

    it('cannot make gitiso ls slow, or make it read an oversized state file', async () => {
      // An oversized state file that would otherwise read as ready, with a base branch git would take as an option.
      await inAgent(agentId(), `{ printf '{"state":"ready","baseBranch":"--upload-pack=touch /tmp/pwned","baseCommit":"abc","readyAt":"x","pad":"'; head -c ${100 * MiB} /dev/zero | tr '\\0' z; printf '"}'; } > /etc/gitiso/state.json.new && mv /etc/gitiso/state.json.new /etc/gitiso/state.json`);
      // `gitiso ls` in a new process, which has not seen the agent ready.
      const started = Date.now();
      const ls = spawnSync(process.execPath, [CLI, 'ls', '--json'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(ls.status, 0, ls.stderr);
      assert.ok(Date.now() - started < 15_000, `gitiso ls took ${Date.now() - started} ms`);
      const listed = (JSON.parse(ls.stdout) as { id: string; baseBranch: string }[]).find((agent) => agent.id === agentId());
      assert.ok(listed, 'the agent is listed');
      assert.notEqual(listed.baseBranch, '--upload-pack=touch /tmp/pwned', 'the oversized state file was read');
    });

    it('cannot hold port discovery with a cat that prints 50 MiB and never ends', async () => {
      await inAgent(agentId(), `printf '#!/bin/sh\\ntrap "" TERM\\n/usr/bin/head -c ${50 * MiB} /dev/zero\\nwhile :; do /bin/sleep 1; done\\n' > /usr/local/bin/cat && chmod +x /usr/local/bin/cat`);
      const discovery = await within(12_000, 'port discovery with a hanging cat', core.ports.discover(agentId()).then(() => 'answered', (error: Error) => error.name));
      assert.ok(['answered', 'TimeoutError'].includes(discovery.value), discovery.value);
    });

    it('reads a dev.json the agent rewrote with a port that is no port as no dev server', async () => {
      await inAgent(agentId(), 'rm -f /usr/local/bin/cat; pkill -KILL -x cat; mkdir -p /run/gitiso && echo 1 > /run/gitiso/dev.pid && printf \'{"command":"x","port":"3000; evil","startedAt":"y"}\' > /run/gitiso/dev.json');
      const status = await within(8_000, 'dev status with a forged dev.json', core.devServers.status(agentId()));
      assert.equal(status.value, undefined);
    });

    it('keeps a bounded, marked result of a git that prints 200 MiB', async () => {
      await inAgent(agentId(), `printf '#!/bin/sh\\nexec /usr/bin/head -c ${200 * MiB} /dev/zero\\n' > /usr/local/bin/git && chmod +x /usr/local/bin/git`);
      const git = await within(30_000, 'git printing 200 MiB', core.exec.git(agentId(), ['log']));
      assert.equal(truncated(git.value), true);
      assert.ok(git.value.stdout.length <= 16 * MiB);
    });

    it('does not hand what the agent\'s git prints to the host\'s git when it syncs', async () => {
      // rev-parse answers with revision syntax instead of an object id; everything else is git.
      await inAgent(agentId(), `printf '#!/bin/sh\\ncase "$1" in rev-parse) echo "HEAD~1 --all"; exit 0;; esac\\nexec /usr/bin/git "$@"\\n' > /usr/local/bin/git && chmod +x /usr/local/bin/git`);
      const synced = await core.agents.sync(agentId());
      assert.equal(synced.from, '');
      assert.equal((await inAgent(agentId(), `/usr/bin/git rev-parse refs/remotes/origin/${synced.branch}`)).stdout.trim(), synced.to);
    });

    it('keeps stats answering (from the engine) when head prints 100 MiB, or half a header', async () => {
      const agent = await core.agents.get(agentId());
      const sampler = new StatsSampler({ exec: core.exec, engine, runningAgents: () => [agent] }, { diskIntervalMs: 3_600_000 });
      try {
        await inAgent(agentId(), `printf '#!/bin/sh\\n/usr/bin/head -c ${100 * MiB} /dev/zero\\n' > /usr/local/bin/head && chmod +x /usr/local/bin/head`);
        const huge = await within(15_000, 'stats with a head that prints 100 MiB', sampler.sample());
        assert.ok((huge.value.get(agentId())?.pids ?? 0) >= 1, 'no figures of the agent');
        await inAgent(agentId(), `printf '#!/bin/sh\\nprintf "x\\\\n==> /sys/fs/cgroup/cpu.stat <=="\\n' > /usr/local/bin/head`);
        const torn = await within(15_000, 'stats with a head that prints half a header', sampler.sample());
        assert.ok((torn.value.get(agentId())?.pids ?? 0) >= 1, 'no figures of the agent');
      } finally {
        sampler.dispose();
      }
    });
  });
});
