import type { Logger } from '../core/logger';

/** What --verbose logs through: one line per message on stderr, so stdout stays the command's output. */
export function stderrLogger(): Logger {
  const write = (level: string) => (message: string | Error, ...args: unknown[]): void => {
    process.stderr.write(`[${level}] ${message instanceof Error ? message.message : message}${args.length ? ' ' + args.map(String).join(' ') : ''}\n`);
  };
  return { trace: write('trace'), debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
