/**
 * What a coding agent's session is doing, as the tree shows it: working (its
 * output moved lately), waiting (alive and quiet: most often for the user's
 * input), or finished (with its exit status).
 */
export type SessionActivity = 'working' | 'waiting' | 'finished';

export interface TaskInfo {
  /** The preset that runs it. */
  readonly preset: string;
  /** The prompt's first line, cut short: what the tree shows. */
  readonly title: string;
  readonly startedAt: string;
}

export interface SessionState {
  readonly activity: SessionActivity;
  readonly task?: TaskInfo;
  /** When finished: the coding agent's exit status. */
  readonly exitCode?: number;
  /** Seconds since the session last wrote to its terminal. */
  readonly quietSeconds: number;
}

/** Output quieter than this reads as waiting (a coding agent at work streams, runs tools and prints often). */
export const WAITING_AFTER_SECONDS = 15;

/** A task's title: its prompt's first non-empty line, at most this long. */
export const TITLE_MAX_LENGTH = 80;

export function taskTitle(prompt: string): string {
  const line = prompt.split('\n').map((text) => text.trim()).find((text) => text.length > 0) ?? '';
  return line.length > TITLE_MAX_LENGTH ? `${line.slice(0, TITLE_MAX_LENGTH - 1)}…` : line;
}

/**
 * Reads the session probe's output (see agentSessions.ts STATE_SCRIPT): "none",
 * or four lines: pane dead (0/1) and its last activity (epoch seconds), the
 * agent's clock, the task file, the exit file. Everything there is the agent's
 * to rewrite: anything unexpected reads as no session.
 */
export function parseSessionState(output: string, waitingAfterSeconds = WAITING_AFTER_SECONDS): SessionState | undefined {
  const [panes = '', clock = '', taskLine = '', exitLine = ''] = output.split('\n');
  const pane = /^([01]) (\d{1,12})$/.exec(panes.trim());
  const now = /^\d{1,12}$/.test(clock.trim()) ? Number(clock.trim()) : undefined;
  if (!pane || now === undefined) {
    return undefined;
  }
  const quietSeconds = Math.max(0, now - Number(pane[2]));
  const task = parseTaskInfo(taskLine);
  const exitMatch = /^(\d{1,3}) \d{1,12}$/.exec(exitLine.trim());
  const exit = exitMatch && Number(exitMatch[1]) <= 255 ? exitMatch : undefined;
  if (pane[1] === '1' || exit) {
    return { activity: 'finished', quietSeconds, ...(task ? { task } : {}), ...(exit ? { exitCode: Number(exit[1]) } : {}) };
  }
  return { activity: quietSeconds >= waitingAfterSeconds ? 'waiting' : 'working', quietSeconds, ...(task ? { task } : {}) };
}

/** The task file as gitiso wrote it (one JSON line), else undefined. */
export function parseTaskInfo(line: string): TaskInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const { preset, title, startedAt } = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof preset !== 'string' || preset.length > 40 || typeof title !== 'string' || typeof startedAt !== 'string' || startedAt.length > 40) {
    return undefined;
  }
  return { preset, title: taskTitle(title), startedAt };
}
