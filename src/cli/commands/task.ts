import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseSetupFile, SETUP_FILE, SETUP_FILE_MAX_BYTES } from '../../core/setup/repoSetup';
import { AgentApiAccess, agentIdsOnEvery, API_TOKENS_FILE } from '../../core/apiProxy/agentApiAccess';
import { extraAuthorities } from '../../core/apiProxy/extraAuthorities';
import type { AgentSessions } from '../../core/codingAgents/agentSessions';
import { SESSION_WATCH_INTERVAL_MS } from '../../core/codingAgents/sessionWatch';
import { defaultStorageDir } from '../../core/storage';
import { codingAgentPresets, DEFAULT_PRESET, presetNamed } from '../../core/codingAgents/codingAgentPreset';
import { TaskRunner } from '../../core/codingAgents/taskRunner';
import { toolInstallOf } from '../../core/codingAgents/toolInstall';
import { InvalidInputError, isCancellation } from '../../core/errors';
import { countFrom } from '../args';
import { messageOf, usageError } from '../errors';
import { withInterrupt } from '../interrupt';
import { progressPrinter } from '../progressPrinter';
import { tabSeparated } from '../table';
import type { CliCommand } from './command';

const USAGE = 'gitiso task PROMPT --repo URL [--agent PRESET] [--count N] [--prefix P] [--base BRANCH], or --on ID (again for more agents)';

export const taskCommand: CliCommand = {
  name: 'task',
  usage: USAGE,
  async run({ operands, flags }, context) {
    const { core } = context;
    const [prompt, ...rest] = operands;
    const existing = flags.on ?? [];
    if (!prompt || rest.length > 0 || (existing.length === 0) === !flags.repo) {
      throw usageError(USAGE);
    }
    // The user's own presets: GITISO_CODING_AGENTS holds them as JSON, as the gitiso.codingAgents setting does.
    const presets = codingAgentPresets(parsedPresets(process.env.GITISO_CODING_AGENTS), 'GITISO_CODING_AGENTS');
    // --agent, else GITISO_CODING_AGENT, else the current folder's .gitiso.json's, else Claude Code.
    const preset = presetNamed(presets, flags.agent ?? (process.env.GITISO_CODING_AGENT || undefined) ?? folderDefault() ?? DEFAULT_PRESET);
    const count = countFrom(flags.count) ?? 1;
    return withInterrupt(async (signal) => {
      let failed = 0;
      let ids = existing;
      if (flags.repo) {
        const progress = progressPrinter(count > 1);
        // The preset's install (the user's or a built-in) goes into the agents' snapshot, once for all of them.
        const toolInstall = toolInstallOf(preset);
        const requests = Array.from({ length: count }, (_, n) => ({ id: `${flags.prefix ?? 'task'}-${n + 1}`, repoUrl: flags.repo as string, baseBranch: flags.base, image: flags.image, copyFrom: flags['copy-from'] ?? process.cwd(), toolInstall }));
        const outcomes = await core.creator.createMany(requests, { signal, onProgress: progress.update, force: flags.force }).finally(() => progress.done());
        for (const outcome of outcomes) {
          if ('error' in outcome) {
            if (isCancellation(outcome.error)) {
              throw outcome.error;
            }
            failed++;
            process.stderr.write(`gitiso: ${outcome.id}: ${messageOf(outcome.error)}\n`);
          }
        }
        ids = outcomes.filter((outcome) => 'agent' in outcome).map((outcome) => outcome.id);
      }
      // The key stays here: the agents get the proxy's address and a token each (from the tool's own variable, as it would read it).
      const access = preset.api ? new AgentApiAccess({ engine: core.engine, network: core.network, apis: [preset.api], keyFor: (api) => process.env[api.keyEnv] || undefined, ca: extraAuthorities(), port: proxyPort(), tokensFile: join(defaultStorageDir(), API_TOKENS_FILE), usage: core.apiUsage, agentIds: () => agentIdsOnEvery(context.everyEngine().map((engine) => engine.core)) }) : undefined;
      try {
        const runner = new TaskRunner({ sessions: core.sessions, tools: core.tools, access });
        const started: string[] = [];
        for (const outcome of await runner.start({ prompt, preset, agentIds: ids, signal })) {
          if ('error' in outcome) {
            failed++;
            process.stderr.write(`gitiso: ${outcome.id}: ${messageOf(outcome.error)}\n`);
          } else {
            started.push(outcome.id);
            // The session outlives this command.
            process.stdout.write(tabSeparated([[outcome.id, preset.name, outcome.started ? 'started' : 'already running']]));
          }
        }
        if (access && started.length > 0) {
          process.stderr.write(`gitiso: serving the API key proxy for ${started.join(', ')} until their tasks finish (Ctrl-C stops it; the sessions go on, and their API calls fail until a gitiso window or task serves it again)\n`);
          await untilFinished(core.sessions, started, signal);
        }
      } finally {
        await access?.close();
      }
      return failed > 0 ? 1 : 0;
    });
  },
};

/** Waits until every session in `ids` has finished (or is gone), or Ctrl-C. */
async function untilFinished(sessions: AgentSessions, ids: readonly string[], signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const states = await Promise.all(ids.map((id) => sessions.state(id).catch(() => undefined)));
    if (states.every((state) => state === undefined || state.activity === 'finished')) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, SESSION_WATCH_INTERVAL_MS));
  }
}

/** GITISO_API_PROXY_PORT, else the default (the VS Code setting gitiso.apiProxy.port's). */
function proxyPort(): number | undefined {
  const port = Number(process.env.GITISO_API_PROXY_PORT);
  return Number.isInteger(port) && port >= 1024 && port <= 65535 ? port : undefined;
}

/** The coding agent the current folder's .gitiso.json names, if it can be read. */
function folderDefault(): string | undefined {
  try {
    const path = join(process.cwd(), SETUP_FILE);
    return statSync(path).size <= SETUP_FILE_MAX_BYTES ? parseSetupFile(readFileSync(path, 'utf8')).codingAgent : undefined;
  } catch {
    return undefined;
  }
}

function parsedPresets(text: string | undefined): unknown {
  if (!text?.trim()) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`GITISO_CODING_AGENTS must hold a JSON list of coding agents: ${messageOf(error)}`);
  }
}
