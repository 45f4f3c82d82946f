import { STATE_DIR, STATE_FILE, WORKSPACE } from '../agent';
import { abortError, throwIfAborted } from '../base/abort';
import type { Engine } from '../docker/engine';
import { CreateFailedError } from '../errors';
import { gitFailure } from '../git/gitFailure';
import { STEP_FUNCTION } from './buildSteps';
import { CLONE_FROM_OBJECTS, OBJECTS_BASE, WAIT_FOR_OBJECTS } from './cloneFromObjects';

/**
 * Makes a container started from a snapshot into an agent: fetch what the
 * snapshot lacks (a bundle, when the base moved), put the session branch at the
 * base commit (without touching the index when the commit is the snapshot's
 * own, so the shared index is not copied up), write the user's identity and the
 * state file. Words arrive as positional parameters, never spliced in.
 * $1 session branch, $2 user.name, $3 user.email, $4 bundle or "", $5 bundle ref,
 * $6 base branch, $7 base commit, $8 the state file's JSON.
 */
export const AGENT_SETUP_SCRIPT = `set -e
cd "${WORKSPACE}"
if [ -n "$4" ]; then
  git fetch -q "$4" "+$5:refs/remotes/origin/$6"
  rm -f "$4"
  git checkout -q -B "$1" "$7"
else
  git update-ref "refs/heads/$1" "$7"
  git symbolic-ref HEAD "refs/heads/$1"
fi
if [ -n "$2" ]; then git config user.name "$2"; fi
if [ -n "$3" ]; then git config user.email "$3"; fi
mkdir -p "${STATE_DIR}"
printf '%s\\n' "$8" > "${STATE_FILE}.tmp"
mv "${STATE_FILE}.tmp" "${STATE_FILE}"`;

/**
 * The agent container's own command: set up once (the state file says it was),
 * say so on stdout, then keep the container alive. Running the setup as the
 * container's command spares an exec, which costs about 100 ms on an engine.
 * $0 is the setup script, run in a shell of its own so that its `set -e` holds.
 */
const BOOT_SCRIPT = `if [ ! -f "${STATE_FILE}" ]; then
  sh -c "$0" gitiso-setup "$@" || { echo gitiso-failed; exit 1; }
fi
echo gitiso-ready
exec sleep infinity`;

export interface SetupArgs {
  readonly sessionBranch: string;
  readonly userName: string;
  readonly userEmail: string;
  readonly bundlePath: string;
  readonly bundleRef: string;
  readonly baseBranch: string;
  readonly baseCommit: string;
  readonly stateJson: string;
}

function positional(args: SetupArgs): string[] {
  return [args.sessionBranch, args.userName, args.userEmail, args.bundlePath, args.bundleRef, args.baseBranch, args.baseCommit, args.stateJson];
}

/** The container command that boots an agent from a snapshot. */
export function bootCommand(args: SetupArgs): string[] {
  return ['sh', '-c', BOOT_SCRIPT, AGENT_SETUP_SCRIPT, ...positional(args)];
}

/** Who a first agent's boot makes it, before its base is known (that comes with its objects: see baseNote). */
export interface DirectBootArgs {
  readonly sessionBranch: string;
  readonly userName: string;
  readonly userEmail: string;
}

/**
 * The command of a first agent that starts without a snapshot: it waits for
 * the pool's object files, sent to `clone.objects` as it boots (while the host
 * may still be mirroring the repository), with the base branch, commit and
 * state file beside them (OBJECTS_BASE, read as data, never run); makes its
 * own clone from them (see cloneFromObjects.ts), then sets up as an agent from
 * a snapshot does. Its step lines (buildSteps.ts) come before its "ready" line.
 */
export function directBootCommand(args: DirectBootArgs, clone: { readonly objects: string; readonly origin: string }): string[] {
  const readBase = `{ IFS= read -r branch; IFS= read -r commit; IFS= read -r state; } < "$objects/${OBJECTS_BASE}"
set -- "$1" "$2" "$3" "" "" "$branch" "$commit" "$state"`;
  const script = `set -e\n${STEP_FUNCTION}\nobjects=$9 origin=\${10}\n${WAIT_FOR_OBJECTS}\n${readBase}\nstep start\n${CLONE_FROM_OBJECTS}\n${AGENT_SETUP_SCRIPT}`;
  const unknownBase = { bundlePath: '', bundleRef: '', baseBranch: '', baseCommit: '', stateJson: '' };
  return ['sh', '-c', BOOT_SCRIPT, script, ...positional({ ...args, ...unknownBase }), clone.objects, clone.origin];
}

/** The same setup, run later in a running agent (to catch up on a base that moved). */
export function setupCommand(args: SetupArgs): string[] {
  return ['sh', '-c', AGENT_SETUP_SCRIPT, 'gitiso-setup', ...positional(args)];
}

/** Starts a created agent container and waits for its boot to say it is ready; returns what the boot printed. */
export async function startAndAwaitBoot(engine: Pick<Engine, 'attach' | 'demux' | 'startContainer'>, containerId: string, signal?: AbortSignal): Promise<string> {
  return (await beginBoot(engine, containerId, signal)).output;
}

/** A started agent container whose boot goes on. */
export interface Booting {
  /** What the boot printed, once it says it is ready; rejects when it fails, stops or is cancelled. */
  readonly output: Promise<string>;
}

/**
 * Starts a created agent container and returns once the engine has started it;
 * its boot goes on (a first agent's waits for its objects). The caller must
 * await `output` (a failure before it does is held for it, not unhandled).
 */
export async function beginBoot(engine: Pick<Engine, 'attach' | 'demux' | 'startContainer'>, containerId: string, signal?: AbortSignal): Promise<Booting> {
  throwIfAborted(signal, 'agent start');
  // Attached before the start, so not a byte of the boot's output is missed.
  const stream = await engine.attach(containerId);
  let stdout = '';
  let stderr = '';
  const output = new Promise<string>((resolve, reject) => {
    const settle = (error?: Error): void => {
      signal?.removeEventListener('abort', onAbort);
      stream.destroy();
      if (error) {
        reject(error);
      } else {
        resolve(stdout);
      }
    };
    const onAbort = (): void => settle(abortError(signal as AbortSignal, 'agent start'));
    signal?.addEventListener('abort', onAbort, { once: true });
    engine.demux(
      stream,
      (chunk) => {
        stdout += chunk.toString();
        if (stdout.includes('gitiso-ready\n')) {
          settle();
        } else if (stdout.includes('gitiso-failed')) {
          settle(new CreateFailedError(`the agent could not be set up: ${gitFailure(stderr)}`));
        }
      },
      (chunk) => {
        stderr += chunk.toString();
      },
    );
    stream.on('end', () => settle(new CreateFailedError(`the agent's container stopped while it was set up: ${gitFailure(stderr || stdout)}`)));
  });
  output.catch(() => undefined);
  await engine.startContainer(containerId);
  return { output };
}
