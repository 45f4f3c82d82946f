import { GitisoError } from '../errors';

/**
 * What went wrong with a file in an agent, in the terms a file system uses
 * (the VS Code layer turns each kind into its FileSystemError).
 */
export type AgentFileProblem = 'not-found' | 'exists' | 'is-directory' | 'not-directory' | 'no-permission' | 'unavailable' | 'other';

export class AgentFileError extends GitisoError {
  override readonly name = 'AgentFileError';
  constructor(readonly problem: AgentFileProblem, message: string, cause?: unknown) {
    super(message, { cause });
  }
}
