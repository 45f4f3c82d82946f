import { InvalidInputError } from '../errors';

/** Where a coding agent's requests go, and how they carry the key. */
export interface CodingAgentApi {
  /** The API's base URL (https): the host's proxy sends the agent's requests there, with the real key. */
  readonly upstream: string;
  /** The variable the tool reads its base URL from: set to the proxy's address for the agent. */
  readonly baseUrlEnv: string;
  /** The variable the tool reads its key from: set to the agent's own token, never the key. */
  readonly keyEnv: string;
  /** The header the key goes in: `authorization` (as `Bearer <key>`) or a header of its own, such as `x-api-key`. */
  readonly keyHeader: string;
}

/**
 * A coding agent gitiso can run in an agent: Claude Code, Codex CLI, Aider,
 * Gemini CLI, or the user's own script. Commands are argument arrays, run as
 * they are (no shell); `{prompt}` in `task` is replaced by the task's prompt
 * as one argument.
 */
export interface CodingAgentPreset {
  readonly name: string;
  /** The interactive command. */
  readonly command: readonly string[];
  /** The command that works on a task; `{prompt}` is one of its arguments. */
  readonly task: readonly string[];
  /** A shell command that installs the tool when the image lacks it: run once, in the snapshot build. */
  readonly install?: string;
  readonly api?: CodingAgentApi;
}

export const PROMPT_PLACEHOLDER = '{prompt}';

const npmInstall = (pkg: string, bin: string): string => `command -v ${bin} >/dev/null || npm install -g --no-fund --no-audit ${pkg}`;

/** The presets gitiso knows; the user's (`gitiso.codingAgents`) add to them or replace one of the same name. */
export const BUILT_IN_PRESETS: readonly CodingAgentPreset[] = [
  {
    name: 'claude-code',
    command: ['claude'],
    task: ['claude', PROMPT_PLACEHOLDER],
    install: npmInstall('@anthropic-ai/claude-code', 'claude'),
    api: { upstream: 'https://api.anthropic.com', baseUrlEnv: 'ANTHROPIC_BASE_URL', keyEnv: 'ANTHROPIC_API_KEY', keyHeader: 'x-api-key' },
  },
  {
    name: 'codex',
    command: ['codex'],
    task: ['codex', PROMPT_PLACEHOLDER],
    install: npmInstall('@openai/codex', 'codex'),
    api: { upstream: 'https://api.openai.com/v1', baseUrlEnv: 'OPENAI_BASE_URL', keyEnv: 'OPENAI_API_KEY', keyHeader: 'authorization' },
  },
  {
    name: 'gemini',
    command: ['gemini'],
    task: ['gemini', '--prompt-interactive', PROMPT_PLACEHOLDER],
    install: npmInstall('@google/gemini-cli', 'gemini'),
    api: { upstream: 'https://generativelanguage.googleapis.com', baseUrlEnv: 'GOOGLE_GEMINI_BASE_URL', keyEnv: 'GEMINI_API_KEY', keyHeader: 'x-goog-api-key' },
  },
  {
    name: 'aider',
    command: ['aider'],
    task: ['aider', '--message', PROMPT_PLACEHOLDER],
    install: 'command -v aider >/dev/null || { python3 -m pip install --quiet aider-install && aider-install; }',
    api: { upstream: 'https://api.openai.com/v1', baseUrlEnv: 'OPENAI_API_BASE', keyEnv: 'OPENAI_API_KEY', keyHeader: 'authorization' },
  },
];

const NAME = /^[a-z0-9][a-z0-9._-]{0,39}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const HEADER = /^[a-z0-9-]{1,64}$/;
/** Variables a preset may not set: they would change what runs, or where, rather than which API it calls. */
const RESERVED_ENV = new Set(['PATH', 'HOME', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'SHELL', 'TMUX', 'TERM', 'USER']);
const MAX_ARGS = 64;
const MAX_ARG_LENGTH = 4096;

/** The presets: the built-in ones, then the user's (`gitiso.codingAgents`), one of the same name replacing a built-in. */
export function codingAgentPresets(userValue: unknown, where = 'gitiso.codingAgents'): CodingAgentPreset[] {
  if (userValue === undefined || userValue === null) {
    return [...BUILT_IN_PRESETS];
  }
  if (!Array.isArray(userValue)) {
    throw new InvalidInputError(`${where} must be a list of coding agents, for example [{ "name": "mine", "command": ["my-agent"], "task": ["my-agent", "{prompt}"] }]`);
  }
  const byName = new Map(BUILT_IN_PRESETS.map((preset) => [preset.name, preset]));
  userValue.forEach((entry: unknown, index) => {
    const preset = parsePreset(entry, `${where}[${index}]`);
    byName.set(preset.name, preset);
  });
  return [...byName.values()];
}

/** The preset named `name`; an error that lists the names there are. */
export function presetNamed(presets: readonly CodingAgentPreset[], name: string): CodingAgentPreset {
  const preset = presets.find((candidate) => candidate.name === name);
  if (!preset) {
    throw new InvalidInputError(`there is no coding agent named '${name}': choose one of ${presets.map((p) => p.name).join(', ')}, or add it to the gitiso.codingAgents setting`);
  }
  return preset;
}

/** The preset a task starts from when none is asked for. */
export const DEFAULT_PRESET = 'claude-code';

/**
 * The preset a pick offers first: the first of `names` (the user's choice, the
 * repository's) that is a preset, else the default. A name that is none (a
 * workspace's or a repository's, say) only moves where the pick starts.
 */
export function offeredPreset(presets: readonly CodingAgentPreset[], names: readonly (string | undefined)[]): CodingAgentPreset {
  const name = names.find((candidate) => candidate !== undefined && presets.some((preset) => preset.name === candidate));
  return presetNamed(presets, name ?? DEFAULT_PRESET);
}

/** The task's command: the preset's, with its prompt as one argument where `{prompt}` is. */
export function taskCommand(preset: CodingAgentPreset, prompt: string): string[] {
  if (!prompt.trim()) {
    throw new InvalidInputError('the task has no prompt: say what the coding agent should do');
  }
  return preset.task.map((arg) => (arg === PROMPT_PLACEHOLDER ? prompt : arg));
}

function parsePreset(entry: unknown, where: string): CodingAgentPreset {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new InvalidInputError(`${where} must be an object with a name, a command and a task`);
  }
  const value = entry as Record<string, unknown>;
  const name = value.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidInputError(`${where}.name must be a short name of lower-case letters, digits, ".", "_" or "-"`);
  }
  const command = argv(value.command, `${where}.command`);
  const task = argv(value.task ?? [...command, PROMPT_PLACEHOLDER], `${where}.task`);
  if (!task.includes(PROMPT_PLACEHOLDER)) {
    throw new InvalidInputError(`${where}.task must have "${PROMPT_PLACEHOLDER}" as one of its arguments: the task's prompt goes there`);
  }
  if (value.install !== undefined && (typeof value.install !== 'string' || value.install.length > MAX_ARG_LENGTH)) {
    throw new InvalidInputError(`${where}.install must be a shell command`);
  }
  const install = typeof value.install === 'string' && value.install.trim() ? value.install : undefined;
  const api = value.api === undefined ? undefined : parseApi(value.api, `${where}.api`);
  return { name, command, task, ...(install ? { install } : {}), ...(api ? { api } : {}) };
}

function argv(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ARGS || !value.every((arg) => typeof arg === 'string' && arg.length <= MAX_ARG_LENGTH)) {
    throw new InvalidInputError(`${where} must be a list of arguments, for example ["my-agent", "--yes"] (no shell)`);
  }
  return [...(value as string[])];
}

function parseApi(value: unknown, where: string): CodingAgentApi {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${where} must be an object with upstream, baseUrlEnv, keyEnv and keyHeader`);
  }
  const { upstream, baseUrlEnv, keyEnv, keyHeader } = value as Record<string, unknown>;
  let url: URL | undefined;
  try {
    url = typeof upstream === 'string' ? new URL(upstream) : undefined;
  } catch {
    url = undefined;
  }
  // The key goes there: only over TLS, and never to an address with a login in it.
  if (!url || url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
    throw new InvalidInputError(`${where}.upstream must be the API's https:// base URL, for example "https://api.example.com/v1"`);
  }
  for (const [key, name] of [['baseUrlEnv', baseUrlEnv], ['keyEnv', keyEnv]] as const) {
    if (typeof name !== 'string' || !ENV_NAME.test(name) || RESERVED_ENV.has(name)) {
      throw new InvalidInputError(`${where}.${key} must be the name of an environment variable the tool reads, for example "OPENAI_API_KEY"`);
    }
  }
  if (typeof keyHeader !== 'string' || !HEADER.test(keyHeader.toLowerCase()) || keyHeader.toLowerCase() === 'host') {
    throw new InvalidInputError(`${where}.keyHeader must be the header the key goes in: "authorization" or one such as "x-api-key"`);
  }
  return { upstream: url.href.replace(/\/$/, ''), baseUrlEnv: baseUrlEnv as string, keyEnv: keyEnv as string, keyHeader: keyHeader.toLowerCase() };
}
