import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import type { Engine } from '../../src/core/docker/engine';

/** The main dockerd's pidfile (dockerd's default; scripts/ensure-docker.sh starts it without another). */
export const MAIN_DOCKERD_PIDFILE = '/var/run/docker.pid';

/**
 * The pid of the dockerd a pidfile names, if it runs. By pidfile, not by
 * name: the tests' second engine (scripts/ensure-second-engine.sh) is a
 * dockerd too.
 */
export function dockerdOf(pidfile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The local dockerd this process may restart: root, no DOCKER_HOST, the main dockerd running. Else why not. */
export function restartableDockerd(): { pid: number; argv: string[] } | { reason: string } {
  if (process.getuid?.() !== 0) {
    return { reason: 'restarting dockerd needs root' };
  }
  if (process.env.DOCKER_HOST) {
    return { reason: `the engine is at DOCKER_HOST=${process.env.DOCKER_HOST}, not a local dockerd this test may restart` };
  }
  const pid = dockerdOf(MAIN_DOCKERD_PIDFILE);
  if (pid === undefined) {
    return { reason: `no running dockerd named by ${MAIN_DOCKERD_PIDFILE}` };
  }
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  return { pid, argv };
}

/**
 * Stops dockerd as a service manager would (SIGTERM: it stops its
 * containers), starts it again with the same command line, and waits until
 * it answers. The new dockerd outlives this process, as the old one did.
 */
export async function restartDockerd(engine: Engine, dockerd: { pid: number; argv: string[] }): Promise<void> {
  process.kill(dockerd.pid, 'SIGTERM');
  for (let waited = 0; existsSync(`/proc/${dockerd.pid}`); waited += 100) {
    if (waited > 60_000) {
      throw new Error('dockerd did not stop within 60 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const log = openSync('/tmp/gitiso-dockerd.log', 'a');
  const [command, ...args] = dockerd.argv as [string, ...string[]];
  spawn(command, args, { detached: true, stdio: ['ignore', log, log] }).unref();
  for (let waited = 0; ; waited += 250) {
    try {
      await engine.ping();
      return;
    } catch (error) {
      if (waited > 60_000) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
