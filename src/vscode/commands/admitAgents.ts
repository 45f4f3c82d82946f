import * as vscode from 'vscode';
import { untilAborted } from '../../core/base/abort';
import type { CreateRequest } from '../../core/create/createRequest';
import { placeAgents, placementText, type EngineRoom } from '../../core/engines/placement';
import { CancelledError, GitisoError } from '../../core/errors';
import { AdmissionError } from '../../core/limits/agentLimits';
import type { EngineParts } from '../composition';
import type { CommandContext } from './context';

/** Where to create: an engine's name, or "any" (the engine that admits the agents with the most memory left). */
export const ANY_ENGINE = 'any';

/** How long placement waits for an engine's figures: one that does not answer in time is not chosen. */
const ROOM_TIMEOUT_MS = 3_000;

/**
 * Placement and admission control before a create, done once here. The
 * engine is the one asked for; with "any" (or none asked for when there are
 * several), the engine that admits the agents with the most memory left. When
 * the agents' memory limits do not fit the engine's memory, the user decides
 * (a modal that says how much is reserved). Returns the engine, and what the
 * progress should say of the choice (empty with one engine); throws
 * CancelledError when the user declines.
 */
export async function placeOrConfirm(ctx: CommandContext, requests: readonly CreateRequest[], asked?: string): Promise<{ readonly engine: EngineParts; readonly said: string }> {
  const { engines } = ctx.gitiso;
  if (engines.length === 1 || (asked && asked !== ANY_ENGINE)) {
    const engine = engines.length === 1 ? ctx.gitiso.local : ctx.gitiso.engineNamed(asked as string);
    if (!engine) {
      throw new GitisoError(`there is no engine named '${asked}': the engines are ${engines.map((e) => e.name).join(', ')} (gitiso.engines, Docker contexts)`);
    }
    await admitOrConfirm(engine, requests);
    return { engine, said: engines.length === 1 ? '' : `on ${engine.name}` };
  }
  const rooms = await Promise.all(engines.map((engine) => roomOf(engine, requests)));
  const place = placeAgents(rooms, requests.length);
  if (place) {
    return { engine: ctx.gitiso.engineNamed(place.name) as EngineParts, said: placementText(place) };
  }
  // None admits them: the answering engine with the most memory left, and the user decides there.
  const fallback = rooms.filter((room) => room.answers).sort((a, b) => b.totalBytes - b.reservedBytes - (a.totalBytes - a.reservedBytes))[0];
  if (!fallback) {
    throw new GitisoError(`no engine answers (${engines.map((e) => e.name).join(', ')}): start Docker, or check gitiso.engines`);
  }
  const engine = ctx.gitiso.engineNamed(fallback.name) as EngineParts;
  await admitOrConfirm(engine, requests);
  return { engine, said: `on ${engine.name}` };
}

/** An engine's memory and what these agents would ask of it (each engine's own admission: its limits, its figures). */
async function roomOf(engine: EngineParts, requests: readonly CreateRequest[]): Promise<EngineRoom> {
  const { admission } = engine.core;
  try {
    const [memory, askedBytes] = await untilAborted(Promise.all([admission.memory(), admission.memoryAskedFor(requests)]), AbortSignal.timeout(ROOM_TIMEOUT_MS), `engine '${engine.name}'`);
    return { name: engine.name, answers: true, askedBytes, ...memory };
  } catch {
    return { name: engine.name, answers: false, reservedBytes: 0, totalBytes: 0, askedBytes: 0 };
  }
}

async function admitOrConfirm(engine: EngineParts, requests: readonly CreateRequest[]): Promise<void> {
  try {
    await engine.core.admission.admit(requests);
  } catch (error) {
    if (!(error instanceof AdmissionError)) {
      throw error;
    }
    const choice = await vscode.window.showWarningMessage(error.message.replace(/ Remove or stop.*$/, ''), { modal: true, detail: 'Limits are ceilings: agents that stay below them fit. Lower gitiso.limits.memory, or remove agents, to stay safe.' }, 'Create Anyway');
    if (choice !== 'Create Anyway') {
      throw new CancelledError('creation');
    }
  }
}
