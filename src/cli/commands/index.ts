import type { CliCommand } from './command';
import { createCommand } from './create';
import { devCommand } from './dev';
import { doctorCommand } from './doctor';
import { forwardCommand } from './forward';
import { gitCommand } from './git';
import { limitsCommand } from './limits';
import { lsCommand } from './ls';
import { portsCommand } from './ports';
import { rmCommand } from './rm';
import { snapshotsCommand } from './snapshots';
import { statsCommand } from './stats';
import { syncCommand } from './sync';

/** Every command, in the order of the help text. */
export const COMMANDS: readonly CliCommand[] = [
  createCommand,
  lsCommand,
  gitCommand,
  rmCommand,
  syncCommand,
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
