import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/core/docker/engine';
import { LABEL } from '../../src/core/agent';
import { AgentNetwork } from '../../src/core/network/agentNetwork';
import { GITISO_NETWORK } from '../../src/core/network/networkSetting';

/**
 * Test agents' limits: small, so the many agents of a run fit the machine's
 * memory under admission control (the suites create dozens).
 */
export const TEST_LIMITS = { memoryBytes: 256 * 1024 ** 2, cpus: 1 };

/** The network test agents join: gitiso's own, where containers cannot reach each other, as a user's agents do. */
export const TEST_NETWORK = GITISO_NETWORK;
/** Marks containers the tests make besides agents (the git server), so a run can sweep leftovers. */
export const TEST_LABEL = 'gitiso.test';

/**
 * The engine the tests run against. scripts/run-tests.mjs starts one where
 * none answers; here a missing engine fails the run loudly, never skips it.
 */
export async function testEngine(): Promise<Engine> {
  const engine = new Engine();
  await engine.ping();
  return engine;
}

/** The locally built test image (scripts/build-test-image.sh), named by the runner. */
export function testImage(): string {
  const image = process.env.GITISO_TEST_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_IMAGE is not set: run the tests with `npm test` (scripts/run-tests.mjs builds the image)');
  }
  return image;
}

/** The image of the authenticated git servers (scripts/build-server-image.sh: the test image plus apache2 and openssh-server), named by the runner. */
export function testServerImage(): string {
  const image = process.env.GITISO_TEST_SERVER_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_SERVER_IMAGE is not set: run the tests with `npm test` (scripts/run-tests.mjs builds the image)');
  }
  return image;
}

/** A short prefix unique to this test process, for agent ids. */
export function idPrefix(name: string): string {
  return `t-${name}-${process.pid.toString(36)}`;
}

/** Makes gitiso's own network as a create does; returns its gateway, the host's address as the network's containers reach it. */
export async function ensureNetwork(engine: Engine): Promise<string> {
  const id = await new AgentNetwork({ engine }).resolve();
  const gateway = (await engine.inspectNetwork(id))?.IPAM?.Config?.map((config) => config.Gateway).find((address) => address && /^[\d.]+$/.test(address));
  if (!gateway) {
    throw new Error(`network ${TEST_NETWORK} has no IPv4 gateway`);
  }
  return gateway;
}

/** Removes every agent whose id starts with `prefix`. */
export async function removeAgents(engine: Engine, prefix: string): Promise<void> {
  const containers = await engine.listContainers(LABEL.agent);
  await Promise.all(containers.filter((c) => c.Labels[LABEL.agent]?.startsWith(prefix)).map((c) => engine.removeContainer(c.Id)));
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } }).trim();
}

export function makeTempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `gitiso-${name}-`));
}

export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
