import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dockerdOf } from './dockerd';
import { waitFor } from './waitFor';

/** Where scripts/ensure-second-engine.sh starts the second dockerd; its pidfile is the one way tests find it. */
export const SECOND_DOCKERD_PIDFILE = '/run/gitiso-engine2/docker.pid';

/** The second engine and the SSH engine in front of it, as scripts/ensure-second-engine.sh made them. */
export interface SecondEngine {
  /** `unix:///run/gitiso-engine2/docker.sock` */
  readonly unixHost: string;
  /** Its socket's path (the unix host's). */
  readonly socketPath: string;
  /** `ssh://root@127.0.0.1:PORT`: the same engine through sshd. */
  readonly sshHost: string;
  /** An ssh config file naming it `gitiso-engine2`. */
  readonly sshConfig: string;
  /** The client's private key, and a known_hosts file holding the server's key. */
  readonly sshKey: string;
  readonly sshKnownHosts: string;
}

/**
 * The second engine the runner set up (scripts/run-tests.mjs). A missing
 * variable fails the test loudly: a suite of it never skips silently.
 */
export function secondEngine(): SecondEngine {
  const unixHost = required('GITISO_TEST_ENGINE2');
  return {
    unixHost,
    socketPath: new URL(unixHost).pathname,
    sshHost: required('GITISO_TEST_SSH_ENGINE'),
    sshConfig: required('GITISO_TEST_SSH_CONFIG'),
    sshKey: required('GITISO_TEST_SSH_KEY'),
    sshKnownHosts: required('GITISO_TEST_SSH_KNOWN_HOSTS'),
  };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests with \`npm test\`, or \`export $(bash scripts/ensure-second-engine.sh)\` first`);
  }
  return value;
}

/** `GET <path>` over a unix socket (the engine's API, no client library): status and body. */
export function socketGet(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, agent: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} on ${socketPath} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Whether the engine at `socketPath` answers `GET /_ping` with OK. */
export async function pings(socketPath: string): Promise<boolean> {
  return socketGet(socketPath, '/_ping').then((answer) => answer.status === 200 && answer.body === 'OK', () => false);
}

/**
 * Stops the second dockerd as a service manager would (SIGTERM: it stops its
 * containers) and waits until its process is gone. The main engine is not touched.
 */
export async function stopSecondDockerd(): Promise<void> {
  const pid = dockerdOf(SECOND_DOCKERD_PIDFILE);
  if (pid === undefined) {
    throw new Error(`${SECOND_DOCKERD_PIDFILE} names no running dockerd: is the second engine set up (scripts/ensure-second-engine.sh)?`);
  }
  process.kill(pid, 'SIGTERM');
  await waitFor('the second dockerd to stop', () => !existsSync(`/proc/${pid}`), 60_000);
}

/** Starts it again, the one way it is started (the set-up script, which does nothing else when the rest is there), and waits until it answers. */
export async function startSecondDockerd(): Promise<void> {
  const script = join(__dirname, '..', '..', '..', 'scripts', 'ensure-second-engine.sh');
  await promisify(execFile)('bash', [script], { env: process.env, timeout: 120_000 });
  const { socketPath } = secondEngine();
  await waitFor('the second dockerd to answer', () => pings(socketPath), 60_000);
}
