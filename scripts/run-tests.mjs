// Runs every test tier after the build, one after another: unit (pure),
// integration (real Docker engine and git server), then inside a real VS Code. Builds the test image first (cached), sets up
// the second engine (scripts/ensure-second-engine.sh), sweeps what a crashed earlier run left on both, and ends with one plain
// "N passed, N failed" line over all tiers.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const image = process.env.GITISO_TEST_IMAGE || execFileSync('bash', ['scripts/build-test-image.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
// The authenticated git servers' image (apache2, openssh-server): the test image plus one layer.
const serverImage = process.env.GITISO_TEST_SERVER_IMAGE || execFileSync('bash', ['scripts/build-server-image.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();

// The second engine and the SSH engine in front of it (issue 15): its
// variables (GITISO_TEST_ENGINE2, GITISO_TEST_SSH_…) for every tier.
const secondEngine = Object.fromEntries(execFileSync('bash', ['scripts/ensure-second-engine.sh'], {
  encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GITISO_TEST_IMAGE: image, GITISO_TEST_SERVER_IMAGE: serverImage },
}).split('\n').filter((line) => /^GITISO_TEST_[A-Z0-9_]+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));

// Leftovers of an interrupted run, on both engines.
sweep([]);
sweep(['-H', secondEngine.GITISO_TEST_ENGINE2]);

/** Removes test-made containers, test agents (ids "t-…") and snapshots of the tests' repositories from one engine. */
function sweep(host) {
  const docker = (args, options) => execFileSync('docker', [...host, ...args], { encoding: 'utf8', ...options });
  const leftovers = docker(['ps', '-aq', '--filter', 'label=gitiso.test']).split('\n').filter(Boolean);
  const agents = docker(['ps', '-a', '--filter', 'label=gitiso.agent', '--format', '{{.ID}} {{.Label "gitiso.agent"}}'])
    .split('\n').filter((line) => / t-/.test(line)).map((line) => line.split(' ')[0]);
  if (leftovers.length + agents.length > 0) {
    docker(['rm', '-f', '-v', ...leftovers, ...agents], { stdio: 'ignore' });
  }
  // Snapshots of the tests' repositories (served under gitiso-test-… folders).
  const snapshotIds = [...new Set(docker(['images', '-q', '--filter', 'label=gitiso.snapshot']).split('\n').filter(Boolean))];
  const snapshots = snapshotIds.length === 0 ? [] : docker(['image', 'inspect', '--format', '{{.Id}} {{index .Config.Labels "gitiso.repo"}}', ...snapshotIds])
    .split('\n').filter((line) => /\/gitiso-test-[0-9a-f]+\//.test(line)).map((line) => line.split(' ')[0]);
  if (snapshots.length > 0) {
    spawnSync('docker', [...host, 'rmi', '-f', ...new Set(snapshots)], { stdio: 'ignore' });
  }
}

const tiers = [
  { name: 'unit', dir: 'out/test/unit' },
  { name: 'integration', dir: 'out/test/integration' },
  // Inside a real VS Code (code-server): the extension-host suites, then the UI end to end.
  { name: 'vscode extension host', script: 'scripts/vscode/run-extension-tests.mjs' },
  { name: 'vscode ui end-to-end', script: 'test/e2e/ui.e2e.mjs' },
  { name: 'vscode newcomer walk', script: 'test/e2e/newcomer.e2e.mjs' },
];
const scratch = mkdtempSync(join(tmpdir(), 'gitiso-tests-'));
// The tests' object pool lives in this run's scratch folder, not the user's.
const env = { ...process.env, GITISO_TEST_IMAGE: image, GITISO_TEST_SERVER_IMAGE: serverImage, ...secondEngine, GITISO_HOME: join(scratch, 'home') };
let passed = 0;
let failed = 0;
for (const tier of tiers) {
  console.log(`\n=== ${tier.name} tests ===`);
  const started = Date.now();
  const result = tier.dir ? runNodeTests(tier) : await runScript(tier);
  passed += result.passed;
  failed += result.failed;
  console.log(`=== ${tier.name}: ${result.passed} passed, ${result.failed} failed in ${Math.round((Date.now() - started) / 1000)} s ===`);
}

function runNodeTests(tier) {
  const tap = join(scratch, `${tier.name}.tap`);
  const run = spawnSync(process.execPath, [
    '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    tier.dir,
  ], { stdio: 'inherit', env, timeout: 30 * 60_000 });
  const summary = readFileSync(tap, 'utf8');
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(summary)?.[1] ?? 0);
  const result = { passed: count('pass'), failed: count('fail') + count('cancelled') };
  if (run.status !== 0 && result.failed === 0) {
    result.failed = 1; // the runner itself failed (a file that did not load, a timeout)
    console.error(`${tier.name} tests: the test runner exited with ${run.status ?? run.signal}`);
  }
  return result;
}

/** Runs a tier's own runner, shows its output, and reads its closing "N passed, N failed" line. */
function runScript(tier) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tier.script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('exit', (code) => {
      const counts = [...output.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
      const result = { passed: Number(counts?.[1] ?? 0), failed: Number(counts?.[2] ?? 0) };
      if (code !== 0 && result.failed === 0) {
        result.failed = 1;
        console.error(`${tier.name} tests: the runner exited with ${code}`);
      }
      resolve(result);
    });
  });
}
rmSync(scratch, { recursive: true, force: true });
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
