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

/** The host's object pool could not fetch from the remote, or lacks what was asked of it (a branch). */
export class PoolError extends GitisoError {
  override readonly name = 'PoolError';
}

/** gitiso's own network could not be made, or one of its name lets containers reach each other. */
export class AgentNetworkError extends GitisoError {
  override readonly name = 'AgentNetworkError';
}

/** A snapshot image could not be built; nothing of the build is left. */
export class SnapshotBuildError extends GitisoError {
  override readonly name = 'SnapshotBuildError';
}

/** A repository's .gitiso.json asks for an install or files to copy that the user has not allowed; nothing was created. */
export class SetupNotAllowedError extends GitisoError {
  override readonly name = 'SetupNotAllowedError';
  constructor(readonly repoUrl: string, readonly asks: string) {
    super(`${repoUrl} asks in its .gitiso.json to ${asks}; that was not allowed, so nothing was created: allow it with --trust-setup (gitiso create) or in VS Code's dialog, or take it out of .gitiso.json`);
  }
}

/** The remote's new commits could not be brought into an agent; the agent is as it was. */
export class SyncFailedError extends GitisoError {
  override readonly name = 'SyncFailedError';
}

/** An agent's work could not be brought to the host's pool; the pool's other refs are as they were. */
export class BringHomeError extends GitisoError {
  override readonly name = 'BringHomeError';
}

/** The host's git could not log in to a remote; the message says how to give the host a credential (gitiso never prompts). */
export class RemoteLoginError extends GitisoError {
  override readonly name = 'RemoteLoginError';
}

/** A push from the host failed before the remote answered (not a login: the network, a bad URL). */
export class PushFailedError extends GitisoError {
  override readonly name = 'PushFailedError';
}

/** Taking an agent's work into the user's repository was refused or failed; the user's files are as they were unless the message says otherwise. */
export class WorkspaceGitError extends GitisoError {
  override readonly name = 'WorkspaceGitError';
}

/** An agent's exec channel closed under a command (the agent stopped, or its shell died). */
export class ChannelClosedError extends GitisoError {
  override readonly name = 'ChannelClosedError';
  constructor() {
    super('the agent\'s command channel closed: is the agent still running?');
  }
}

/**
 * An agent's exec channel closed while a command ran: it may or may not have
 * taken effect, so gitiso never runs it again on its own (a commit or a push
 * must not happen twice).
 */
export class OutcomeUnknownError extends GitisoError {
  override readonly name = 'OutcomeUnknownError';
  constructor(readonly command: string) {
    super(`the agent's command channel closed while ${command} ran; it may or may not have taken effect: check with git status and git log before running it again`);
  }
}

/** Something read from an agent (a file, a command's output) is bigger than gitiso reads; it is treated as invalid. */
export class TooLargeError extends GitisoError {
  override readonly name = 'TooLargeError';
  constructor(readonly what: string, readonly maxBytes: number) {
    super(`${what} is larger than ${maxBytes} bytes, more than gitiso reads: it is treated as invalid; make it smaller or rewrite it`);
  }
}

/** The engine answered in a way it should not (no exit code for an ended command). */
export class EngineProtocolError extends GitisoError {
  override readonly name = 'EngineProtocolError';
}

/** An agent's page would open in the workbench's own origin, where it could read what VS Code serves (code-server's /proxy/PORT/). */
export class SharedOriginError extends GitisoError {
  override readonly name = 'SharedOriginError';
  constructor(readonly address: string) {
    super(`${address} is VS Code's own origin, where an agent's page could read VS Code's files: set gitiso.preview.address to 'forwarded' if this browser runs on this machine, or start code-server with a proxy domain`);
  }
}

/** No free port on 127.0.0.1 for a forward. */
export class NoFreePortError extends GitisoError {
  override readonly name = 'NoFreePortError';
  constructor() {
    super('no free port on 127.0.0.1 to forward to: close some forwards or other servers and try again');
  }
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

/** The one way to put any thrown value in a message: its first line. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    return cause.message.split('\n')[0]?.trim() || cause.name;
  }
  return String(cause ?? 'unknown cause');
}

/** Any thrown value as an Error (what a batch reports per item). */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

export function isCancellation(error: unknown): boolean {
  return error instanceof CancelledError || (error instanceof Error && error.name === 'AbortError');
}
