import type { AgentPorts } from '../core/ports/agentPorts';
import { withInterrupt } from './interrupt';

/** Keeps the process (and its forwards) alive until Ctrl-C or SIGTERM, or until the agent stops; then closes the forwards. */
export async function holdForwards(ports: AgentPorts, agentId: string): Promise<void> {
  await withInterrupt((signal) => untilForwardsClose({ ports, agentId, signal }), ['SIGINT', 'SIGTERM']);
  ports.dispose();
}

/** Resolves when the agent's forwards are gone (AgentPorts closes them when it stops) or when `signal` aborts. */
function untilForwardsClose({ ports, agentId, signal }: { ports: AgentPorts; agentId: string; signal: AbortSignal }): Promise<void> {
  return new Promise<void>((resolve) => {
    const finish = (): void => {
      clearInterval(check);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const check = setInterval(() => {
      if (ports.forwards(agentId).length === 0) {
        process.stderr.write(`gitiso: agent '${agentId}' stopped; forward closed\n`);
        finish();
      }
    }, 500);
    // The forwards' own sockets keep the process alive, not this check.
    check.unref();
    signal.addEventListener('abort', finish, { once: true });
  });
}
