import { RUN_DIR, WORKSPACE } from '../agent';
import type { AgentExec } from '../agentExec';
import { throwIfAborted } from '../base/abort';
import { GitisoError } from '../errors';
import type { AgentPorts, Forward } from '../ports/agentPorts';
import { fallbackDevCommand, parseSetupFile, SETUP_FILE, DEFAULT_DEV_PORT, type SetupSettings } from '../setup/repoSetup';

/** The dev server's pid and command live on the agent's tmpfs: a container restart forgets them, as it ends the server. */
const PID_FILE = `${RUN_DIR}/dev.pid`;
const INFO_FILE = `${RUN_DIR}/dev.json`;
/** On the agent's disk: the log outlives a crash of the server, for reading after. */
export const DEV_LOG = '/var/log/gitiso-dev.log';

/**
 * Starts the dev command in the background, in a session of its own (so it can
 * be stopped with everything it started), detached from the exec that started
 * it: it belongs to the container, and survives VS Code. $1 command, $2 port,
 * $3 the info file's JSON.
 */
const START_SCRIPT = `mkdir -p "${RUN_DIR}"
if [ -f "${PID_FILE}" ] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null; then echo running; exit 0; fi
cd "${WORKSPACE}"
if command -v setsid >/dev/null; then
  PORT="$2" setsid sh -c "$1" </dev/null >"${DEV_LOG}" 2>&1 &
else
  PORT="$2" sh -c "$1" </dev/null >"${DEV_LOG}" 2>&1 &
fi
echo "$!" > "${PID_FILE}"
printf '%s\\n' "$3" > "${INFO_FILE}"
echo started`;

/**
 * Ends the server's whole process group: TERM, up to five seconds' grace, then
 * KILL. (dash's kill takes no "--": a negative pid follows the signal directly.)
 */
const STOP_SCRIPT = `[ -f "${PID_FILE}" ] || exit 0
pid=$(cat "${PID_FILE}")
kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
i=0
while { kill -0 "-$pid" || kill -0 "$pid"; } 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
rm -f "${PID_FILE}" "${INFO_FILE}"
exit 0`;

const STATUS_SCRIPT = `[ -f "${PID_FILE}" ] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null && cat "${INFO_FILE}"`;

export interface DevServerInfo {
  readonly command: string;
  readonly port: number;
  readonly startedAt: string;
}

/** dev.json is a few hundred bytes; the agent can write anything there. */
const MAX_INFO_BYTES = 16 * 1024;

/** Reads dev.json as gitiso wrote it: anything else (the agent's to rewrite) is undefined. */
export function parseDevServerInfo(text: string): DevServerInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { command, port, startedAt } = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof command !== 'string' || command.length > 4096 || typeof startedAt !== 'string' || startedAt.length > 64) {
    return undefined;
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return undefined;
  }
  return { command, port, startedAt };
}

export interface DevStartResult extends DevServerInfo {
  /** False when it was running already. */
  readonly started: boolean;
  /** Set once the port is listening, when asked to forward. */
  readonly forward?: Forward;
}

export interface DevStartOptions {
  readonly signal?: AbortSignal;
  /** Wait until the port listens and forward it to 127.0.0.1. */
  readonly forward?: boolean;
  /** How long to wait for the port; 60 s by default (first builds are slow). */
  readonly timeoutMs?: number;
}

/** How long a dev server's start may wait to read the agent's setup files. */
const START_READ_TIMEOUT_MS = 30_000;

/**
 * Each agent's dev server: the project's dev command (its `.gitiso.json`, the
 * settings, else `npm run dev`, else `npm start`) run in the agent with PORT
 * set. Every agent has its own network namespace, so all may use one port.
 */
export class DevServers {
  private readonly exec: AgentExec;
  private readonly ports: AgentPorts;
  private readonly settings: SetupSettings;

  constructor(deps: { readonly exec: AgentExec; readonly ports: AgentPorts; readonly settings?: SetupSettings }) {
    this.exec = deps.exec;
    this.ports = deps.ports;
    this.settings = deps.settings ?? {};
  }

  /** What runs, read from the agent (a probe, beside its commands); undefined when no dev server runs, or what the agent says of it is not valid. */
  async status(agentId: string): Promise<DevServerInfo | undefined> {
    const result = await this.exec.probe(agentId, ['sh', '-c', STATUS_SCRIPT], { maxOutputBytes: MAX_INFO_BYTES });
    if (result.exitCode !== 0 || result.truncated) {
      return undefined;
    }
    return parseDevServerInfo(result.stdout);
  }

  async start(agentId: string, options: DevStartOptions = {}): Promise<DevStartResult> {
    const { command, port } = await this.resolve(agentId);
    const info: DevServerInfo = { command, port, startedAt: new Date().toISOString() };
    const result = await this.exec.run(agentId, ['sh', '-c', START_SCRIPT, 'gitiso-dev', command, String(port), JSON.stringify(info)], { signal: options.signal });
    if (result.exitCode !== 0) {
      throw new GitisoError(`could not start the dev server of '${agentId}': ${result.stderr.trim() || `exit code ${result.exitCode}`}`);
    }
    const started = result.stdout.trim() === 'started';
    const running = started ? info : ((await this.status(agentId)) ?? info);
    if (!options.forward) {
      return { ...running, started };
    }
    await this.awaitListening(agentId, running.port, options);
    return { ...running, started, forward: await this.ports.forward(agentId, running.port) };
  }

  /** Stops the server and its forward. */
  async stop(agentId: string): Promise<void> {
    const running = await this.status(agentId);
    await this.exec.run(agentId, ['sh', '-c', STOP_SCRIPT]);
    if (running) {
      await this.ports.stop(agentId, running.port);
    }
  }

  async restart(agentId: string, options: DevStartOptions = {}): Promise<DevStartResult> {
    await this.stop(agentId);
    return this.start(agentId, options);
  }

  /** The log's last lines; `follow` keeps streaming into `onOutput` until the signal aborts. */
  async logs(agentId: string, options: { lines?: number; follow?: boolean; signal?: AbortSignal; onOutput?: (chunk: Buffer) => void } = {}): Promise<string> {
    const argv = ['tail', '-n', String(options.lines ?? 200), ...(options.follow ? ['-F'] : []), DEV_LOG];
    if (options.follow) {
      // Not through the agent's channel: a follow would hold it for every other command.
      const result = await this.exec.runAside(agentId, argv, { signal: options.signal, onStdout: options.onOutput, onStderr: options.onOutput }).catch((error: unknown) => {
        if (options.signal?.aborted) {
          return { stdout: '', stderr: '', exitCode: 0 };
        }
        throw error;
      });
      return result.stdout;
    }
    const result = await this.exec.probe(agentId, argv);
    return result.exitCode === 0 ? result.stdout : '';
  }

  /** The dev command and port for the agent, as its clone's setup file and package.json say now. */
  async resolve(agentId: string): Promise<{ command: string; port: number }> {
    const [setupFile, packageJson] = await Promise.all([this.readWorkspaceFile(agentId, SETUP_FILE), this.readWorkspaceFile(agentId, 'package.json')]);
    const file = parseSetupFile(setupFile);
    const command = (file.dev ?? this.settings.dev)?.trim() || fallbackDevCommand(packageJson);
    if (!command) {
      throw new GitisoError(`agent '${agentId}' has no dev command: set "dev" in ${SETUP_FILE} or the gitiso.devServer.command setting, or add a "dev" or "start" script to package.json`);
    }
    return { command, port: file.port ?? this.settings.port ?? DEFAULT_DEV_PORT };
  }

  /**
   * Waits until something in the agent listens on `port` where the host can
   * reach it. Fails early, with the log's end, when the server exits.
   */
  private async awaitListening(agentId: string, port: number, options: DevStartOptions): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let loopbackOnly = false;
    while (Date.now() < deadline) {
      throwIfAborted(options.signal, `the dev server of '${agentId}'`);
      const listening = (await this.ports.discover(agentId)).find((candidate) => candidate.port === port);
      if (listening?.reachable) {
        return;
      }
      loopbackOnly = listening !== undefined;
      if (!(await this.status(agentId))) {
        const tail = (await this.logs(agentId, { lines: 5 })).trim();
        throw new GitisoError(`the dev server of '${agentId}' exited${tail ? `: ${tail.split('\n').join(' ⏎ ')}` : ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    if (loopbackOnly) {
      throw new GitisoError(`the dev server of '${agentId}' listens on ${port} on 127.0.0.1 only, which cannot be forwarded: make it listen on 0.0.0.0 (for example \`vite --host\`)`);
    }
    throw new GitisoError(`the dev server of '${agentId}' did not listen on port ${port} in time: does it use PORT? See its log (gitiso dev logs ${agentId})`);
  }

  private async readWorkspaceFile(agentId: string, name: string): Promise<string | undefined> {
    // Part of a start the user asked for: on a busy machine (the soak's 20 agents on 2 cores) slow beats failed.
    const result = await this.exec.probe(agentId, ['cat', `${WORKSPACE}/${name}`], { timeoutMs: START_READ_TIMEOUT_MS });
    return result.exitCode === 0 && !result.truncated ? result.stdout : undefined;
  }
}
