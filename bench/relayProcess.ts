import { fork, type ChildProcess } from 'node:child_process';
import { openRelay, RELAY_KINDS, type RelayKind, type Target } from './relayVariants';

/**
 * A relay in a process of its own, as the forwarder runs in the extension
 * host's (or the CLI's), so it shares no event loop with the load generator.
 * It reports its CPU time when asked, to tell what each relayed request
 * costs, and ends when its parent goes.
 */
export interface RelayProcess {
  readonly kind: RelayKind;
  readonly hostPort: number;
  /** CPU time (user + system) the relay's process has used so far. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRelayProcess(kind: RelayKind, target: Target): Promise<RelayProcess> {
  const child = fork(__filename, [kind, target.host, String(target.port), ...(target.containerId ? [target.containerId] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const hostPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay ${kind} did not start within 10 s`)), 10_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { hostPort: number }).hostPort);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay ${kind} exited with ${code}`));
    });
  });
  return { kind, hostPort, cpuMicros: () => askCpuMicros(child), stop: () => stopChild(child) };
}

function askCpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('relay did not report its CPU time within 5 s')), 5_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { cpuMicros: number }).cpuMicros);
    });
    child.send('cpu');
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

async function runChild(kind: RelayKind, target: Target): Promise<void> {
  const relay = await openRelay(kind, target);
  process.send?.({ hostPort: relay.hostPort });
  process.on('message', () => {
    const usage = process.cpuUsage();
    process.send?.({ cpuMicros: usage.user + usage.system });
  });
  // The parent going away (normally or not) ends the relay.
  process.once('disconnect', () => {
    void relay.close().finally(() => process.exit(0));
  });
}

if (require.main === module) {
  const [kind, host, port, containerId] = process.argv.slice(2);
  if (!RELAY_KINDS.includes(kind as RelayKind) || !host || !port) {
    console.error('usage: relayProcess KIND HOST PORT [CONTAINER]');
    process.exit(2);
  }
  runChild(kind as RelayKind, { host, port: Number(port), ...(containerId ? { containerId } : {}) }).catch((error: unknown) => {
    console.error(`relay: ${(error as Error).message}`);
    process.exit(1);
  });
}
