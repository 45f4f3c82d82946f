import type { Flags } from '../args';
import type { CliContext } from '../context';

/** What the user typed after the command's name. */
export interface CommandArgs {
  readonly operands: readonly string[];
  /** The words after `--` (only git takes them). */
  readonly passThrough: readonly string[];
  readonly flags: Flags;
}

/** One `gitiso NAME …` command: commands/index.ts lists them all. */
export interface CliCommand {
  readonly name: string;
  /** Other names it answers to. */
  readonly aliases?: readonly string[];
  /** Which operand is an agent's id (0: the first): without --engine, the command works on that agent's own engine. */
  readonly agentOperand?: number;
  /** How to call it, as its usage error prints it after "usage: ". */
  readonly usage: string;
  /** Resolves to the process's exit code. */
  run(args: CommandArgs, context: CliContext): Promise<number>;
}
