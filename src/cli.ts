import { parseArgs } from 'node:util';
import { type Agent, CREATE_STRATEGIES, type CreateStrategy, isRunning } from './core/agent';
import type { CreateProgress } from './core/create/createRequest';
import { createCore, type GitisoCore } from './core/gitisoCore';
import { defaultImage } from './core/defaults';
import { Engine } from './core/docker/engine';
import type { AgentPorts } from './core/ports/agentPorts';
import { formatBytes, parseMemory, validateLimits, type AgentLimits } from './core/limits/agentLimits';
import { StatsSampler, type AgentStats } from './core/stats/statsSampler';
import { CancelledError, GitisoError, isCancellation } from './core/errors';
import type { Logger } from './core/logger';
import { GITISO_VERSION } from './core/version';

const HELP = `gitiso ${GITISO_VERSION}: isolated agents (container + clone + branch) for one repository

Usage:
  gitiso create ID… --repo URL [--base BRANCH] [--image IMAGE] [--strategy S]
  gitiso create --count N [--prefix P] --repo URL …
                          create agents (concurrently): each a container with the
                          repository cloned inside it on branch gitiso/ID
  gitiso ls [--json]      list agents (rebuilt from the Docker engine)
  gitiso git ID -- ARGS…  run git ARGS… in the agent's clone; exits with git's code
  gitiso rm ID…           remove agents and everything they own
  gitiso sync ID…         bring the remote's new commits into agents (origin/BASE)
  gitiso ports ID         the TCP ports the agent's processes listen on
  gitiso forward ID PORT  forward the agent's PORT to 127.0.0.1 until Ctrl-C
  gitiso dev start|stop|restart|status|logs ID
                          the agent's dev server (the dev command of .gitiso.json,
                          else npm run dev, else npm start) with PORT set; start
                          --forward waits for its port and forwards it until Ctrl-C;
                          logs --follow streams the log until Ctrl-C
  gitiso snapshots [--prune]
                          list snapshot images; --prune removes those no agent uses
  gitiso limits ID [--memory M] [--cpus N] [--pids N]
                          change a running agent's limits in place
  gitiso stats [--json] [--watch]
                          CPU, memory / limit, processes, network, disk of running agents

Options:
  --docker-host URL       Docker engine (default: DOCKER_HOST, else the local socket)
  --network NAME          Docker network agents join (default: GITISO_NETWORK, else bridge)
  --strategy S            snapshot (default: the clone is a shared image layer made
                          once per base commit), pool (clone --shared from the host's
                          pool, mounted read-only: local engines) or remote (clone
                          from the remote in the container)
  --depth N, --filter F   with --strategy remote: shallow or partial clone
  --copy-from DIR         where the setup's files to copy (.env…) are read from
                          (default: the current folder)
  --memory M, --cpus N, --pids N
                          each new agent's limits (default 2g, 2, 512); the agent is
                          told them (GITISO_CPUS, GITISO_MEMORY_BYTES, /etc/gitiso/budget.json)
  --force                 create even when the agents' memory limits, with those of
                          running agents, exceed the engine's memory
  --verbose               log what gitiso does to stderr
  -h, --help              show this help
  -v, --version           show the version

Environment: DOCKER_HOST, GITISO_IMAGE (default image: ${defaultImage()}), GITISO_NETWORK,
GITISO_HOME (where the object pool lives; default ~/.cache/gitiso).
`;

class UsageError extends GitisoError {}

async function main(argv: string[]): Promise<number> {
  // Everything after "--" belongs to git, untouched.
  const dashDash = argv.indexOf('--');
  const own = dashDash >= 0 ? argv.slice(0, dashDash) : argv;
  const passThrough = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      repo: { type: 'string' },
      base: { type: 'string' },
      image: { type: 'string' },
      network: { type: 'string' },
      'docker-host': { type: 'string' },
      strategy: { type: 'string' },
      depth: { type: 'string' },
      filter: { type: 'string' },
      count: { type: 'string' },
      prefix: { type: 'string' },
      prune: { type: 'boolean' },
      follow: { type: 'boolean', short: 'f' },
      forward: { type: 'boolean' },
      'copy-from': { type: 'string' },
      memory: { type: 'string' },
      cpus: { type: 'string' },
      pids: { type: 'string' },
      force: { type: 'boolean' },
      watch: { type: 'boolean', short: 'w' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.version) {
    process.stdout.write(`${GITISO_VERSION}\n`);
    return 0;
  }
  if (values.help || !command || command === 'help') {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }

  const log = values.verbose ? stderrLogger() : undefined;
  const engine = new Engine(values['docker-host'], log);
  const core = createCore({
    engine,
    log,
    defaultImage: defaultImage(),
    network: values.network || process.env.GITISO_NETWORK || undefined,
    identityFrom: process.cwd(),
    strategy: parseStrategy(values.strategy),
    cloneDepth: values.depth ? Number(values.depth) : undefined,
    cloneFilter: values.filter,
    limits: parseLimits(values),
  });
  const service = core.agents;

  switch (command) {
    case 'create': {
      const ids = values.count ? Array.from({ length: Number(values.count) }, (_, n) => `${values.prefix ?? 'agent'}-${n + 1}`) : rest;
      if (ids.length === 0 || !values.repo || (values.count && !/^\d+$/.test(values.count))) {
        throw new UsageError('usage: gitiso create ID… --repo URL [--base BRANCH] [--image IMAGE], or --count N [--prefix P]');
      }
      const abort = new AbortController();
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      const progress = progressPrinter(ids.length > 1);
      try {
        const repoUrl = values.repo;
        const outcomes = await core.creator.createMany(
          ids.map((id) => ({ id, repoUrl, baseBranch: values.base, image: values.image, copyFrom: values['copy-from'] ?? process.cwd() })),
          { signal: abort.signal, onProgress: progress.update, force: values.force },
        );
        progress.done();
        let failed = 0;
        for (const outcome of outcomes) {
          if ('agent' in outcome) {
            process.stdout.write(`${outcome.agent.id}\t${outcome.agent.sessionBranch}\t${outcome.agent.baseCommit?.slice(0, 12) ?? ''}\n`);
          } else {
            failed++;
            if (isCancellation(outcome.error)) {
              throw outcome.error;
            }
            process.stderr.write(`gitiso: ${ids.length > 1 ? `${outcome.id}: ` : ''}${outcome.error.message}\n`);
          }
        }
        return failed > 0 ? 1 : 0;
      } finally {
        progress.done();
        process.off('SIGINT', onSigint);
      }
    }
    case 'sync': {
      if (rest.length === 0) {
        throw new UsageError('usage: gitiso sync ID…');
      }
      let failed = 0;
      for (const id of rest) {
        try {
          const synced = await service.sync(id);
          process.stdout.write(synced.from === synced.to ? `${id}: origin/${synced.branch} is up to date\n` : `${id}: origin/${synced.branch} ${synced.from.slice(0, 12) || '(none)'} → ${synced.to.slice(0, 12)}\n`);
        } catch (error) {
          failed++;
          process.stderr.write(`gitiso: ${messageOf(error)}\n`);
        }
      }
      return failed > 0 ? 1 : 0;
    }
    case 'ports': {
      const [id] = rest;
      if (!id) {
        throw new UsageError('usage: gitiso ports ID');
      }
      const listening = await core.ports.discover(id);
      process.stdout.write(
        listening.length === 0
          ? `${id} listens on no TCP port\n`
          : listening.map((p) => `${p.port}\t${p.address}${p.reachable ? '' : '\t(loopback only: not forwardable yet)'}\n`).join(''),
      );
      return 0;
    }
    case 'forward': {
      const [id, portText] = rest;
      const port = Number(portText);
      if (!id || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new UsageError('usage: gitiso forward ID PORT');
      }
      const { ports } = core;
      ports.start();
      const forward = await ports.forward(id, port);
      process.stdout.write(`${id}:${port} → ${forward.url} (Ctrl-C stops)\n`);
      await holdForwards(ports, id);
      return 0;
    }
    case 'dev':
      return dev(rest, values, core);
    case 'stats':
      return stats(values, core, log);
    case 'limits': {
      const [id] = rest;
      if (!id || (values.memory === undefined && values.cpus === undefined && values.pids === undefined)) {
        throw new UsageError('usage: gitiso limits ID [--memory M] [--cpus N] [--pids N]');
      }
      const limits = await service.updateLimits(id, parseLimits(values));
      process.stdout.write(`${id}: ${formatBytes(limits.memoryBytes)}, ${limits.cpus} CPUs, ${limits.pids} processes\n`);
      return 0;
    }
    case 'snapshots': {
      if (values.prune) {
        const removed = await core.snapshots.prune(0);
        process.stdout.write(removed.length === 0 ? 'no unused snapshots\n' : removed.map((s) => `removed ${s.image}\n`).join(''));
        return 0;
      }
      const snapshots = await core.snapshots.list();
      if (values.json) {
        process.stdout.write(JSON.stringify(snapshots, null, 2) + '\n');
      } else if (snapshots.length === 0) {
        process.stdout.write('no snapshots\n');
      } else {
        for (const s of snapshots) {
          process.stdout.write(`${s.image}\t${s.baseBranch}\t${s.baseCommit.slice(0, 12)}\t${((s.sizeBytes ?? 0) / 1e6).toFixed(1)} MB\t${s.repoUrl}\n`);
        }
      }
      return 0;
    }
    case 'ls':
    case 'list': {
      const agents = await service.list();
      process.stdout.write(values.json ? JSON.stringify(agents.map(toJson), null, 2) + '\n' : table(agents));
      return 0;
    }
    case 'git': {
      const [id, ...inline] = rest;
      const args = [...inline, ...passThrough];
      if (!id || args.length === 0) {
        throw new UsageError('usage: gitiso git ID -- ARGS…');
      }
      const result = await core.exec.git(id, args, {
        onStdout: (chunk) => process.stdout.write(chunk),
        onStderr: (chunk) => process.stderr.write(chunk),
      });
      return result.exitCode;
    }
    case 'rm':
    case 'remove': {
      if (rest.length === 0) {
        throw new UsageError('usage: gitiso rm ID…');
      }
      // Remove each one; a failure on one does not stop the others.
      const results = await Promise.allSettled(rest.map((id) => service.remove(id)));
      let failed = 0;
      results.forEach((result, index) => {
        if (result.status === 'rejected') {
          failed++;
          process.stderr.write(`gitiso: ${messageOf(result.reason)}\n`);
        } else {
          process.stdout.write(`removed ${rest[index]}\n`);
        }
      });
      return failed > 0 ? 1 : 0;
    }
    default:
      throw new UsageError(`unknown command '${command}': run 'gitiso --help'`);
  }
}

async function dev(rest: string[], values: { follow?: boolean; forward?: boolean }, core: GitisoCore): Promise<number> {
  const [action, id] = rest;
  if (!id || !['start', 'stop', 'restart', 'status', 'logs'].includes(action ?? '')) {
    throw new UsageError('usage: gitiso dev start|stop|restart|status|logs ID [--forward] [--follow]');
  }
  const { ports, devServers: servers } = core;
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    switch (action) {
      case 'start':
      case 'restart': {
        if (values.forward) {
          ports.start();
        }
        const result = await (action === 'start' ? servers.start(id, { forward: values.forward, signal: abort.signal }) : servers.restart(id, { forward: values.forward, signal: abort.signal }));
        process.stdout.write(`${id}: ${result.started ? 'started' : 'already running'}: ${result.command} (PORT=${result.port})\n`);
        if (result.forward) {
          process.stdout.write(`${id}:${result.port} → ${result.forward.url} (Ctrl-C stops forwarding; the server keeps running)\n`);
          process.off('SIGINT', onSigint);
          await holdForwards(ports, id);
        }
        return 0;
      }
      case 'stop':
        await servers.stop(id);
        process.stdout.write(`${id}: dev server stopped\n`);
        return 0;
      case 'status': {
        const status = await servers.status(id);
        process.stdout.write(status ? `${id}: running since ${status.startedAt}: ${status.command} (PORT=${status.port})\n` : `${id}: no dev server running\n`);
        return status ? 0 : 3;
      }
      default: {
        const text = await servers.logs(id, { follow: values.follow, signal: abort.signal, onOutput: values.follow ? (chunk) => process.stdout.write(chunk) : undefined });
        if (!values.follow) {
          process.stdout.write(text);
        }
        return 0;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    ports.dispose();
  }
}

async function stats(values: { json?: boolean; watch?: boolean }, core: GitisoCore, log: Logger | undefined): Promise<number> {
  const sampler = new StatsSampler({ exec: core.exec, engine: core.engine, runningAgents: async () => (await core.agents.list()).filter(isRunning), log }, { diskIntervalMs: 60_000 });
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    // CPU is a rate: a first reading, then one a second later.
    await sampler.sample();
    do {
      await new Promise((resolve) => setTimeout(resolve, values.watch ? 2_000 : 1_000));
      const current = [...(await sampler.sample()).values()].sort((a, b) => a.agentId.localeCompare(b.agentId));
      if (values.json) {
        process.stdout.write(JSON.stringify(current) + '\n');
      } else {
        process.stdout.write((values.watch && process.stdout.isTTY ? '\x1b[H\x1b[2J' : '') + statsTable(current));
      }
    } while (values.watch && !abort.signal.aborted);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    sampler.dispose();
  }
}

function statsTable(rows: readonly AgentStats[]): string {
  if (rows.length === 0) {
    return 'no running agents\n';
  }
  const header = ['ID', 'CPU', 'MEMORY / LIMIT', 'PIDS', 'NET RX / TX', 'DISK'];
  const lines = [
    header,
    ...rows.map((s) => [
      s.agentId,
      `${s.cpuPercent.toFixed(1)}%`,
      `${formatBytes(s.memoryBytes)} / ${s.memoryLimitBytes ? formatBytes(s.memoryLimitBytes) : 'none'}${s.oomKills ? ` (${s.oomKills} killed: out of memory)` : ''}`,
      String(s.pids),
      `${formatBytes(s.netRxBytes)} / ${formatBytes(s.netTxBytes)}`,
      s.diskBytes === undefined ? '' : formatBytes(s.diskBytes),
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...lines.map((row) => row[column]?.length ?? 0)));
  return lines.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

/** Keeps the process (and its forwards) alive until Ctrl-C, or until the agent stops. */
async function holdForwards(ports: AgentPorts, id: string): Promise<void> {
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    const check = setInterval(() => {
      if (ports.forwards(id).length === 0) {
        process.stderr.write(`gitiso: agent '${id}' stopped; forward closed\n`);
        resolve();
      }
    }, 500);
    check.unref();
  });
  ports.dispose();
}

function parseLimits(values: { memory?: string; cpus?: string; pids?: string }): Partial<AgentLimits> {
  const limits: { -readonly [K in keyof AgentLimits]?: AgentLimits[K] } = {};
  if (values.memory !== undefined) {
    limits.memoryBytes = parseMemory(values.memory);
  }
  if (values.cpus !== undefined) {
    limits.cpus = Number(values.cpus);
  }
  if (values.pids !== undefined) {
    limits.pids = Number(values.pids);
  }
  return validateLimits(limits) && limits;
}

function parseStrategy(value: string | undefined): CreateStrategy | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!(CREATE_STRATEGIES as readonly string[]).includes(value)) {
    throw new UsageError(`--strategy must be one of ${CREATE_STRATEGIES.join(', ')}`);
  }
  return value as CreateStrategy;
}

function toJson(agent: Agent): Record<string, unknown> {
  return { ...agent, createdAt: agent.createdAt.toISOString() };
}

function table(agents: Agent[]): string {
  if (agents.length === 0) {
    return 'no agents: create one with gitiso create ID --repo URL\n';
  }
  const header = ['ID', 'STATE', 'BRANCH', 'BASE', 'REPOSITORY', 'CREATED'];
  const rows = [header, ...agents.map((a) => [a.id, a.state, a.sessionBranch, a.baseBranch, a.repoUrl, a.createdAt.toISOString().replace(/\.\d+Z$/, 'Z')])];
  const widths = header.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

/** One line that rewrites itself on a terminal; one line per phase elsewhere (per agent when there are several). */
function progressPrinter(several: boolean): { update: (progress: CreateProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY && !several;
  const lastPhase = new Map<string, string>();
  let open = false;
  return {
    update(progress) {
      const percent = progress.percent === undefined ? '' : ` ${progress.percent}%`;
      const line = `${progress.agentId}: ${progress.phase}: ${progress.message}${percent}`;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
        open = true;
      } else if (progress.phase !== lastPhase.get(progress.agentId)) {
        process.stderr.write(`${line}\n`);
      }
      lastPhase.set(progress.agentId, progress.phase);
    },
    done() {
      if (open) {
        process.stderr.write('\n');
        open = false;
      }
    },
  };
}

function stderrLogger(): Logger {
  const write = (level: string) => (message: string | Error, ...args: unknown[]): void => {
    process.stderr.write(`[${level}] ${message instanceof Error ? message.message : message}${args.length ? ' ' + args.map(String).join(' ') : ''}\n`);
  };
  return { trace: write('trace'), debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (isCancellation(error)) {
      process.stderr.write(`gitiso: ${error instanceof CancelledError ? error.message : 'cancelled'}\n`);
      process.exitCode = 130;
      return;
    }
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`gitiso: ${messageOf(error)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
