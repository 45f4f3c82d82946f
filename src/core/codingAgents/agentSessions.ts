import { RUN_DIR, WORKSPACE } from '../agent';
import type { AgentExec } from '../agentExec';
import { GitisoError, InvalidInputError } from '../errors';
import { gitFailure } from '../git/gitFailure';
import { parseSessionState, taskTitle, WAITING_AFTER_SECONDS, type SessionState, type TaskInfo } from './sessionState';

/** The one tmux session of an agent's coding agent. */
export const SESSION_NAME = 'gitiso';
/** On the agent's tmpfs, as the dev server's files: a container restart ends the session and forgets them. */
const TASK_FILE = `${RUN_DIR}/task.json`;
const EXIT_FILE = `${RUN_DIR}/task-exit`;

/** What the session's terminal is, before anyone attaches (an attached client resizes it). */
const SESSION_SIZE = { columns: 200, rows: 50 } as const;

/** The most of a prompt gitiso passes (an argument of the coding agent's command). */
export const PROMPT_MAX_BYTES = 100 * 1024;

/**
 * Runs in the session's pane: exports the given variables ($1 how many, then
 * NAME=value words), runs the coding agent (the rest, as an argument array),
 * then records its exit status and time for the tree. `export "$1"` takes the
 * word as a whole: nothing in it is evaluated.
 */
const PANE_SCRIPT = `n=$1; shift
while [ "$n" -gt 0 ]; do export "$1"; shift; n=$((n - 1)); done
"$@"
code=$?
printf '%s %s\\n' "$code" "$(date +%s)" > "${EXIT_FILE}"
printf '\\n\\033[2m[gitiso: the coding agent ended with exit status %s]\\033[0m\\n' "$code"
exit "$code"`;

/**
 * Starts the session unless one is there: $1 the task file's line, $2 the
 * pane's script, then its arguments (PANE_SCRIPT's). tmux runs with no configuration file
 * (nothing of the agent's own), keeps a dead pane (its output stays to read,
 * and its end is seen) and runs the pane's command as an argument array.
 */
const START_SCRIPT = `command -v tmux >/dev/null || { echo "gitiso-no-tmux" >&2; exit 3; }
mkdir -p "${RUN_DIR}"
if tmux has-session -t ${SESSION_NAME} 2>/dev/null; then echo running; exit 0; fi
printf '%s\\n' "$1" > "${TASK_FILE}"
rm -f "${EXIT_FILE}"
pane=$2
shift 2
tmux -f /dev/null start-server \\; set-option -g remain-on-exit on \\; set-option -g history-limit 20000 \\; \\
  new-session -d -s ${SESSION_NAME} -x ${SESSION_SIZE.columns} -y ${SESSION_SIZE.rows} -c "${WORKSPACE}" -- sh -c "$pane" gitiso-task "$@"
echo started`;

/**
 * One probe: the pane's state and activity, the agent's clock, the task and
 * exit files' first lines, printed in one write: each write is a frame of its
 * own on the channel, and each frame costs the host a read. The files are read
 * by the shell's own `read`, not `head` in pipes: every process the probe
 * starts in the agent is CPU taken from the host's cores, gitiso's included
 * (2 forks now, 8 before). What it prints is bounded by the probe's output
 * limit, and parsed as untrusted.
 */
const STATE_SCRIPT = `exec 2>/dev/null
pane=$(tmux display-message -p -t ${SESSION_NAME} '#{pane_dead} #{window_activity}') || { echo none; exit 0; }
task= code=
read -r task < "${TASK_FILE}"
read -r code < "${EXIT_FILE}"
printf '%s\\n%s\\n%s\\n%s\\n' "$pane" "$(date +%s)" "$task" "$code"`;

export interface SessionStart {
  /** The coding agent's command: an argument array, run as it is. */
  readonly argv: readonly string[];
  /** Variables for the coding agent alone (its API's base URL and its token): never the container's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly preset: string;
  readonly prompt: string;
}

export class NoSessionToolError extends GitisoError {}

/**
 * The coding agent of each agent runs in a tmux session inside the agent's
 * container: it outlives VS Code, the CLI and any terminal, and a terminal
 * attaches to it (and detaches, leaving it running) from any window.
 */
export class AgentSessions {
  constructor(
    private readonly exec: Pick<AgentExec, 'run' | 'probe'>,
    /** Quieter than this, a live session reads as waiting for input (sessionState.ts WAITING_AFTER_SECONDS). */
    private readonly waitingAfterSeconds = WAITING_AFTER_SECONDS,
  ) {}

  /** Starts the agent's coding agent in its session; false when a session was already there (it is left as it is). */
  async start(agentId: string, start: SessionStart): Promise<boolean> {
    const env = Object.entries(start.env ?? {}).map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || value.includes('\0')) {
        throw new InvalidInputError(`cannot pass the variable '${name}' to the coding agent`);
      }
      return `${name}=${value}`;
    });
    if (Buffer.byteLength(start.prompt) > PROMPT_MAX_BYTES || start.prompt.includes('\0')) {
      throw new InvalidInputError(`the prompt is larger than ${PROMPT_MAX_BYTES / 1024} KB or holds a NUL character`);
    }
    const task: TaskInfo = { preset: start.preset, title: taskTitle(start.prompt), startedAt: new Date().toISOString() };
    const argv = ['sh', '-c', START_SCRIPT, 'gitiso-session', JSON.stringify(task), PANE_SCRIPT, String(env.length), ...env, ...start.argv];
    const result = await this.exec.run(agentId, argv, { timeoutMs: 30_000 });
    if (result.stderr.includes('gitiso-no-tmux')) {
      throw new NoSessionToolError(`agent '${agentId}' has no tmux, which keeps its coding agent running: use an image with tmux (gitiso.image), or a coding agent preset whose install adds it`);
    }
    if (result.exitCode !== 0) {
      throw new GitisoError(`could not start the coding agent in agent '${agentId}': ${gitFailure(result.stderr)}`);
    }
    return result.stdout.trim() === 'started';
  }

  /** What the agent's session is doing; undefined when it has none. One short probe. */
  async state(agentId: string): Promise<SessionState | undefined> {
    const result = await this.exec.probe(agentId, ['sh', '-c', STATE_SCRIPT]);
    if (result.exitCode !== 0 || result.stdout.trim() === 'none') {
      return undefined;
    }
    return parseSessionState(result.stdout, this.waitingAfterSeconds);
  }

  /** Ends the session and what runs in it. */
  async stop(agentId: string): Promise<void> {
    await this.exec.run(agentId, ['sh', '-c', `tmux kill-session -t ${SESSION_NAME} 2>/dev/null; rm -f "${TASK_FILE}" "${EXIT_FILE}"; exit 0`], { timeoutMs: 15_000 });
  }
}

/** What a terminal runs to attach to the agent's session (detaching, or closing the terminal, leaves it running). */
export const ATTACH_COMMAND: readonly string[] = ['tmux', 'attach-session', '-t', SESSION_NAME];
