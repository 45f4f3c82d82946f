import { applyCommand } from './apply';
import { changesCommand } from './changes';
import { checkoutCommand } from './checkout';
import type { CliCommand } from './command';
import { createCommand } from './create';
import { devCommand } from './dev';
import { doctorCommand } from './doctor';
import { fetchCommand } from './fetch';
import { forwardCommand } from './forward';
import { gitCommand } from './git';
import { limitsCommand } from './limits';
import { lsCommand } from './ls';
import { mergeCommand } from './merge';
import { portsCommand } from './ports';
import { pushCommand } from './push';
import { rmCommand } from './rm';
import { snapshotsCommand } from './snapshots';
import { statsCommand } from './stats';
import { syncCommand } from './sync';
import { taskCommand } from './task';

/** Every command, in the order of the help text. */
export const COMMANDS: readonly CliCommand[] = [
  createCommand,
  taskCommand,
  lsCommand,
  gitCommand,
  rmCommand,
  syncCommand,
  changesCommand,
  pushCommand,
  fetchCommand,
  checkoutCommand,
  mergeCommand,
  applyCommand,
  portsCommand,
  forwardCommand,
  devCommand,
  snapshotsCommand,
  limitsCommand,
  statsCommand,
  doctorCommand,
];

/** The command a name or alias names, if any. */
export function findCommand(name: string): CliCommand | undefined {
  return COMMANDS.find((command) => command.name === name || command.aliases?.includes(name));
}
