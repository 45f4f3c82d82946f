import type { GitisoCore } from '../../core/gitisoCore';
import type { Flags } from '../args';
import { usageError } from '../errors';
import { holdForwards } from '../holdForwards';
import { withInterrupt } from '../interrupt';
import type { CliCommand } from './command';

const USAGE = 'gitiso dev start|stop|restart|status|logs ID [--forward] [--follow]';

interface DevRequest {
  readonly id: string;
  readonly flags: Pick<Flags, 'forward' | 'follow'>;
  readonly core: GitisoCore;
  /** Aborted by Ctrl-C. */
  readonly signal: AbortSignal;
}

interface DevOutcome {
  readonly exitCode: number;
  /** The started server's port is forwarded: hold it until Ctrl-C. */
  readonly holdForwards?: boolean;
}

type DevAction = (request: DevRequest) => Promise<DevOutcome>;

const ACTIONS = new Map<string, DevAction>([
  ['start', (request) => start(request, { restart: false })],
  ['restart', (request) => start(request, { restart: true })],
  ['stop', stop],
  ['status', status],
  ['logs', logs],
]);

export const devCommand: CliCommand = {
  name: 'dev',
  agentOperand: 1,
  usage: USAGE,
  async run({ operands, flags }, { core }) {
    const [actionName, id] = operands;
    const action = ACTIONS.get(actionName ?? '');
    if (!id || !action) {
      throw usageError(USAGE);
    }
    try {
      // Ctrl-C cancels the action; once the server has started, it only ends the forwarding (the server keeps running).
      const outcome = await withInterrupt((signal) => action({ id, flags, core, signal }));
      if (outcome.holdForwards) {
        await holdForwards(core.ports, id);
      }
      return outcome.exitCode;
    } finally {
      core.ports.dispose();
    }
  },
};

async function start({ id, flags, core, signal }: DevRequest, { restart }: { restart: boolean }): Promise<DevOutcome> {
  if (flags.forward) {
    core.ports.start();
  }
  const options = { forward: flags.forward, signal };
  const result = await (restart ? core.devServers.restart(id, options) : core.devServers.start(id, options));
  process.stdout.write(`${id}: ${result.started ? 'started' : 'already running'}: ${result.command} (PORT=${result.port})\n`);
  if (!result.forward) {
    return { exitCode: 0 };
  }
  process.stdout.write(`${id}:${result.port} → ${result.forward.url} (Ctrl-C stops forwarding; the server keeps running)\n`);
  return { exitCode: 0, holdForwards: true };
}

async function stop({ id, core }: DevRequest): Promise<DevOutcome> {
  await core.devServers.stop(id);
  process.stdout.write(`${id}: dev server stopped\n`);
  return { exitCode: 0 };
}

async function status({ id, core }: DevRequest): Promise<DevOutcome> {
  const info = await core.devServers.status(id);
  process.stdout.write(info ? `${id}: running since ${info.startedAt}: ${info.command} (PORT=${info.port})\n` : `${id}: no dev server running\n`);
  // 3 is "not running" to init scripts and systemctl status: scripts can test it.
  return { exitCode: info ? 0 : 3 };
}

async function logs({ id, flags, core, signal }: DevRequest): Promise<DevOutcome> {
  const { follow } = flags;
  const text = await core.devServers.logs(id, { follow, signal, onOutput: follow ? (chunk) => process.stdout.write(chunk) : undefined });
  if (!follow) {
    process.stdout.write(text);
  }
  return { exitCode: 0 };
}
