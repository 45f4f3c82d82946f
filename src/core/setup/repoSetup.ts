import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { InvalidInputError, describeCause } from '../errors';
import type { ToolInstall } from '../codingAgents/toolInstall';
import type { SetupProposal } from './setupProposal';
import { shown } from '../names';

/** The repository's own setup file, at the root of its tree. */
export const SETUP_FILE = '.gitiso.json';

export const DEFAULT_DEV_PORT = 3000;

/** The most of a setup file gitiso reads: a few commands and paths, never megabytes from a repository. */
export const SETUP_FILE_MAX_BYTES = 64 * 1024;

/**
 * What a repository needs besides its clone, as `.gitiso.json` or the settings
 * say (the file first, the settings fill what it leaves out). Commands are the
 * user's own shell commands, run with `sh -c` in the agent's /workspace.
 */
export interface SetupSettings {
  /** Files copied from the host's workspace into every new agent (git-ignored ones such as `.env`): never into a snapshot. */
  readonly copy?: readonly string[];
  /** Installs dependencies after the clone; detected from lockfiles when absent, none when "". */
  readonly install?: string;
  /** Starts the dev server; `npm run dev`, else `npm start`, when absent. */
  readonly dev?: string;
  /** The port the dev server is told to listen on (PORT). */
  readonly port?: number;
  /** The coding agent New Task offers first for this repository (a preset's name). */
  readonly codingAgent?: string;
}

export interface RepoSetup {
  readonly copy: readonly string[];
  readonly install?: string;
  readonly dev?: string;
  readonly port: number;
  /**
   * Part of a snapshot's identity when there is an install: the command and the
   * lockfiles' blob ids. Snapshots with the same key share their dependencies,
   * so an older snapshot is only reused (with a delta fetch) when it matches.
   */
  readonly key: string;
  /** What the repository's setup file asked that needed consent, and was allowed. */
  readonly allowed?: SetupProposal;
  /** The coding agent's install the create asked for (from the user's preset, never the repository): after the repository's, and in the key (toolInstall.ts). */
  readonly tool?: ToolInstall;
}

/** Lockfiles by the install command they imply, in order of preference. */
const LOCKFILE_INSTALLS: readonly (readonly [string, string])[] = [
  ['pnpm-lock.yaml', 'pnpm install --frozen-lockfile'],
  ['yarn.lock', 'yarn install --frozen-lockfile'],
  ['package-lock.json', 'npm ci'],
  ['npm-shrinkwrap.json', 'npm ci'],
  ['requirements.txt', 'pip install -r requirements.txt'],
];

/** The install command the repository's lockfiles imply; undefined when none is there. */
export function detectInstall(rootFiles: Iterable<string>): string | undefined {
  const names = new Set(rootFiles);
  return LOCKFILE_INSTALLS.find(([lockfile]) => names.has(lockfile))?.[1];
}

/** Reads `.gitiso.json`; a malformed file is an error that names the field to fix. */
export function parseSetupFile(text: string | undefined): SetupSettings {
  if (text === undefined || !text.trim()) {
    return {};
  }
  if (Buffer.byteLength(text) > SETUP_FILE_MAX_BYTES) {
    throw new InvalidInputError(`${SETUP_FILE} is larger than ${SETUP_FILE_MAX_BYTES / 1024} KB: it holds a few commands and paths`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${SETUP_FILE} is not valid JSON: ${describeCause(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${SETUP_FILE} must hold an object, for example { "dev": "npm run dev" }`);
  }
  const file = value as Record<string, unknown>;
  const settings: { -readonly [K in keyof SetupSettings]: SetupSettings[K] } = {};
  for (const key of ['install', 'dev'] as const) {
    if (file[key] !== undefined) {
      if (typeof file[key] !== 'string' || file[key].includes('\0')) {
        throw new InvalidInputError(`${SETUP_FILE}: "${key}" must be a shell command (a string without NUL characters)`);
      }
      settings[key] = file[key];
    }
  }
  if (file.copy !== undefined) {
    if (!Array.isArray(file.copy) || !file.copy.every((entry) => typeof entry === 'string')) {
      throw new InvalidInputError(`${SETUP_FILE}: "copy" must be a list of paths, for example [".env"]`);
    }
    settings.copy = file.copy;
  }
  if (file.port !== undefined) {
    settings.port = validatePort(file.port, `${SETUP_FILE}: "port"`);
  }
  if (file.codingAgent !== undefined) {
    if (typeof file.codingAgent !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,39}$/.test(file.codingAgent)) {
      throw new InvalidInputError(`${SETUP_FILE}: "codingAgent" must name a coding agent, for example "claude-code"`);
    }
    settings.codingAgent = file.codingAgent;
  }
  return settings;
}

export function validatePort(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InvalidInputError(`${what} must be a port number from 1 to 65535`);
  }
  return value;
}

/** A path to copy: relative to the folder, never outside it (no absolute path, no `..`), never into `.git`. */
export function validateCopyPath(path: string): string {
  const slashed = path.replace(/\\/g, '/');
  const normal = posix.normalize(slashed);
  if (!path.trim() || path.includes('\0') || posix.isAbsolute(normal) || /^[a-z]:/i.test(normal) || normal === '.' || slashed.split('/').includes('..')) {
    throw new InvalidInputError(`cannot copy '${shown(path)}': files to copy are paths inside the workspace, such as .env`);
  }
  if (hasGitFolder(normal)) {
    throw new InvalidInputError(`cannot copy '${path}': nothing under .git is copied`);
  }
  return normal;
}

/** Whether a relative path goes through a `.git` folder (any case, as case-insensitive file systems see it). */
export function hasGitFolder(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).some((segment) => /^\.git[. ]*$/i.test(segment));
}

/**
 * The setup of a repository at a commit, from its setup file (`file`, read at
 * that commit), the user's settings, and its root files with their blob ids.
 */
export function resolveSetup(file: SetupSettings, settings: SetupSettings, rootFiles: ReadonlyMap<string, string>): RepoSetup {
  const install = (file.install ?? settings.install ?? detectInstall(rootFiles.keys()))?.trim() || undefined;
  // Checked one by one as they are copied: an unsafe path is skipped with a warning, not a failed create.
  const copy = file.copy ?? settings.copy ?? [];
  const key = install ? setupKey(install, rootFiles) : '';
  return { copy, install, dev: (file.dev ?? settings.dev)?.trim() || undefined, port: file.port ?? settings.port ?? DEFAULT_DEV_PORT, key };
}

function setupKey(install: string, rootFiles: ReadonlyMap<string, string>): string {
  const lockfiles = LOCKFILE_INSTALLS.map(([name]) => [name, rootFiles.get(name) ?? '']);
  return createHash('sha256').update(JSON.stringify([install, lockfiles])).digest('hex').slice(0, 16);
}

/** `git ls-tree <commit>` output as file name → blob id (folders left out). */
export function parseLsTree(listing: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const line of listing.split('\n')) {
    // <mode> SP <type> SP <object> TAB <name>
    const match = /^\d+ blob ([0-9a-f]+)\t(.+)$/.exec(line);
    if (match) {
      files.set(match[2] as string, match[1] as string);
    }
  }
  return files;
}

/**
 * The dev command when none is configured: the package's `dev` script, else
 * its `start` script; undefined when it has neither (or no package.json).
 */
export function fallbackDevCommand(packageJson: string | undefined): string | undefined {
  if (!packageJson) {
    return undefined;
  }
  try {
    const scripts = (JSON.parse(packageJson) as { scripts?: Record<string, unknown> }).scripts ?? {};
    if (typeof scripts.dev === 'string') {
      return 'npm run dev';
    }
    if (typeof scripts.start === 'string') {
      return 'npm start';
    }
  } catch {
    // A broken package.json has no usable scripts.
  }
  return undefined;
}
