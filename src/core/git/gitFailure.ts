import { redactCredentials } from '../logger';

/** git's own reason, from its last "fatal:" or "error:" line. */
export function gitFailure(stderr: string): string {
  const lines = stderr.split(/[\r\n]+/).map((line) => line.trim()).filter(Boolean);
  const reason = [...lines].reverse().find((line) => /^(fatal|error):/.test(line)) ?? lines.at(-1) ?? 'git failed without a message';
  return redactCredentials(reason.replace(/^(fatal|error):\s*/, ''));
}
