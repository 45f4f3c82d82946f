/**
 * Typed errors of the core. Each message is one sentence that says what went
 * wrong and what to do, so the CLI and the VS Code layer can show it as is.
 */
export class GitisoError extends Error {
  override readonly name: string = 'GitisoError';
}

/** No Docker engine answers at the configured address. */
export class EngineUnavailableError extends GitisoError {
  override readonly name = 'EngineUnavailableError';
  constructor(readonly host: string, cause?: unknown) {
    super(`no Docker engine at ${host}: start Docker or set DOCKER_HOST (${describeCause(cause)})`, { cause });
  }
}

export class AgentNotFoundError extends GitisoError {
  override readonly name = 'AgentNotFoundError';
  constructor(readonly agentId: string) {
    super(`no agent named '${agentId}': run 'gitiso ls' to see the agents`);
  }
}

export class AgentExistsError extends GitisoError {
  override readonly name = 'AgentExistsError';
  constructor(readonly agentId: string) {
    super(`agent '${agentId}' already exists: pick another id or remove it first`);
  }
}

/** Bad user input: an id, a branch name, a repository URL. */
export class InvalidInputError extends GitisoError {
  override readonly name = 'InvalidInputError';
}

export class ImageUnavailableError extends GitisoError {
  override readonly name = 'ImageUnavailableError';
  constructor(readonly image: string, cause?: unknown) {
    super(`image '${image}' is not on the engine and could not be pulled: build or pull it, or choose another image (${describeCause(cause)})`, { cause });
  }
}

/** A step of agent creation failed; what was made has been removed. */
export class CreateFailedError extends GitisoError {
  override readonly name = 'CreateFailedError';
}

export class AgentNotRunningError extends GitisoError {
  override readonly name = 'AgentNotRunningError';
  constructor(readonly agentId: string, state: string) {
    super(`agent '${agentId}' is ${state}: start it first`);
  }
}

/** The user cancelled; callers show nothing for it. */
export class CancelledError extends GitisoError {
  override readonly name = 'CancelledError';
  constructor(what = 'operation') {
    super(`${what} cancelled`);
  }
}

export class TimeoutError extends GitisoError {
  override readonly name = 'TimeoutError';
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    return cause.message.split('\n')[0]?.trim() ?? cause.name;
  }
  return String(cause ?? 'unknown cause');
}

export function isCancellation(error: unknown): boolean {
  return error instanceof CancelledError || (error instanceof Error && error.name === 'AbortError');
}
