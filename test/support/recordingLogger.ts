import type { Logger } from '../../src/core/logger';

/** A logger that keeps every line in `lines`, for tests that read what the core said. */
export function recordingLogger(lines: string[]): Logger {
  const keep = (message: string | Error): void => void lines.push(String(message));
  return { trace: keep, debug: keep, info: keep, warn: keep, error: keep };
}
