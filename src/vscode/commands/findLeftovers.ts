import * as vscode from 'vscode';
import type { FixOutcome } from '../../core/doctor/doctor';
import type { Leftover } from '../../core/doctor/leftovers';
import { CancelledError, GitisoError } from '../../core/errors';
import type { CommandContext } from './context';

export interface FindLeftoversOptions {
  /** Scripts and tests that have already asked may remove everything found without the pick. */
  readonly confirm?: boolean;
}

/**
 * Find Leftovers…: what crashes left (builders and half-made agents whose
 * creator ended, unused snapshots, temporary files, stale locks), listed in
 * the log and offered in a pick, all ticked; what stays ticked is removed.
 */
export async function findLeftovers(ctx: CommandContext, options: FindLeftoversOptions = {}): Promise<FixOutcome> {
  const found = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Looking for leftovers' }, () => findOnEveryEngine(ctx));
  if (found.length === 0) {
    void vscode.window.showInformationMessage('No leftovers: nothing a crash left behind.');
    return { removed: [], failed: [] };
  }
  for (const leftover of found) {
    ctx.log.info(`leftover ${leftover.kind} ${leftover.name}: ${leftover.why}`);
  }
  const chosen = options.confirm === false ? found : await pick(found);
  const outcome = await fixOnTheirEngines(ctx, chosen);
  await ctx.gitiso.model.refresh();
  if (outcome.failed.length > 0) {
    throw new GitisoError(`could not remove ${outcome.failed.map((f) => `${f.leftover.name}: ${f.error}`).join('; ')}`);
  }
  void vscode.window.showInformationMessage(`Removed ${outcome.removed.length} leftover${outcome.removed.length === 1 ? '' : 's'}.`);
  return outcome;
}

/** Which engine each leftover was found on: it is removed there. */
const engineOfLeftover = new WeakMap<Leftover, string>();

/**
 * Every answering engine's leftovers; the host's own (temporary files, stale
 * locks), which every engine's doctor sees, once.
 */
async function findOnEveryEngine(ctx: CommandContext): Promise<Leftover[]> {
  const found: Leftover[] = [];
  const seen = new Set<string>();
  for (const engine of ctx.gitiso.engines) {
    if (ctx.gitiso.model.statusOf(engine.name).kind === 'unavailable') {
      continue;
    }
    for (const leftover of await engine.core.doctor.find()) {
      if (!seen.has(`${leftover.kind} ${leftover.target}`)) {
        seen.add(`${leftover.kind} ${leftover.target}`);
        engineOfLeftover.set(leftover, engine.name);
        found.push(leftover);
      }
    }
  }
  return found;
}

async function fixOnTheirEngines(ctx: CommandContext, chosen: readonly Leftover[]): Promise<FixOutcome> {
  const outcome: FixOutcome = { removed: [], failed: [] };
  for (const engine of ctx.gitiso.engines) {
    const mine = chosen.filter((leftover) => engineOfLeftover.get(leftover) === engine.name);
    if (mine.length > 0) {
      const fixed = await engine.core.doctor.fix(mine);
      outcome.removed.push(...fixed.removed);
      outcome.failed.push(...fixed.failed);
    }
  }
  return outcome;
}

async function pick(found: readonly Leftover[]): Promise<Leftover[]> {
  const items = found.map((leftover) => ({ label: `${leftover.kind}: ${leftover.name}`, detail: leftover.why, picked: true, leftover }));
  const chosen = await vscode.window.showQuickPick(items, { canPickMany: true, title: 'Leftovers to remove', placeHolder: 'Untick what to keep' });
  if (!chosen || chosen.length === 0) {
    throw new CancelledError('removal of leftovers');
  }
  return chosen.map((item) => item.leftover);
}
