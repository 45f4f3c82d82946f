// Runs every test tier after the build: unit (pure), then integration (real
// Docker engine and git server). Builds the test image first (cached), sweeps
// what a crashed earlier run left, and ends with one plain
// "N passed, N failed" line over all tiers.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const image = process.env.GITISO_TEST_IMAGE || execFileSync('bash', ['scripts/build-test-image.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();

// Leftovers of an interrupted run: test-made containers and test agents (ids "t-…").
const leftovers = execFileSync('docker', ['ps', '-aq', '--filter', 'label=gitiso.test'], { encoding: 'utf8' }).split('\n').filter(Boolean);
const agents = execFileSync('docker', ['ps', '-a', '--filter', 'label=gitiso.agent', '--format', '{{.ID}} {{.Label "gitiso.agent"}}'], { encoding: 'utf8' })
  .split('\n').filter((line) => / t-/.test(line)).map((line) => line.split(' ')[0]);
if (leftovers.length + agents.length > 0) {
  execFileSync('docker', ['rm', '-f', '-v', ...leftovers, ...agents], { stdio: 'ignore' });
}

const tiers = [
  { name: 'unit', dir: 'out/test/unit' },
  { name: 'integration', dir: 'out/test/integration' },
];
const env = { ...process.env, GITISO_TEST_IMAGE: image };
let passed = 0;
let failed = 0;
const scratch = mkdtempSync(join(tmpdir(), 'gitiso-tests-'));
for (const tier of tiers) {
  console.log(`\n=== ${tier.name} tests ===`);
  const tap = join(scratch, `${tier.name}.tap`);
  const run = spawnSync(process.execPath, [
    '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    tier.dir,
  ], { stdio: 'inherit', env, timeout: 30 * 60_000 });
  const summary = readFileSync(tap, 'utf8');
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(summary)?.[1] ?? 0);
  passed += count('pass');
  failed += count('fail') + count('cancelled');
  if (run.status !== 0 && count('fail') + count('cancelled') === 0) {
    failed += 1; // the runner itself failed (a file that did not load, a timeout)
    console.error(`${tier.name} tests: the test runner exited with ${run.status ?? run.signal}`);
  }
}
rmSync(scratch, { recursive: true, force: true });
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
