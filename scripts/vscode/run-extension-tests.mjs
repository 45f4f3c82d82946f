// Runs the extension-host suites (test/vscode/) inside a real VS Code: code-server
// with the smoke-test driver on, loaded in headless Chromium. The suite's run()
// is the same entry point @vscode/test-electron calls on a desktop VS Code.
// Prints "N passed, N failed" and exits with the suite's code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { format } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, startCodeServer } from './codeServer.mjs';

const HARD_TIMEOUT_MS = 10 * 60_000;
const repoRoot = resolve(import.meta.dirname, '..', '..');
const home = execFileSync('bash', [join(repoRoot, 'scripts/vscode/install-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
const suiteIndex = join(repoRoot, 'out', 'test', 'vscode', 'index.js');

// A workspace that is a git repository, as users open.
const workspace = mkdtempSync(join(tmpdir(), 'gitiso-workspace-'));
execFileSync('git', ['init', '-q', '-b', 'main', workspace]);
writeFileSync(join(workspace, 'README.md'), '# workspace\n');

const server = await startCodeServer({
  home,
  extraArgs: ['--vscode-option', 'enable-smoke-test-driver'],
  settings: { 'gitiso.image': process.env.GITISO_TEST_IMAGE ?? '', 'gitiso.limits.memory': '256m' },
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
let exitCode = 1;
let passed = 0;
let failed = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const finished = new Promise((resolveExit) => {
    page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
    setTimeout(() => {
      console.error(`extension tests: no result within ${HARD_TIMEOUT_MS / 1000} s`);
      resolveExit(1);
    }, HARD_TIMEOUT_MS).unref();
  });
  await page.exposeFunction('codeAutomationLog', (_type, args) => {
    const line = Array.isArray(args) ? format(...args) : String(args);
    const counts = /^gitiso-suite: (\d+) passed, (\d+) failed$/m.exec(line);
    if (counts) {
      passed = Number(counts[1]);
      failed = Number(counts[2]);
    }
    process.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
  });
  const remote = (path) => `vscode-remote://127.0.0.1:${server.port}${path}`;
  const env = { GITISO_TEST_IMAGE: process.env.GITISO_TEST_IMAGE ?? '', GITISO_HOME: process.env.GITISO_HOME ?? '', DOCKER_HOST: process.env.DOCKER_HOST ?? '', GITISO_VSCODE_TESTS: process.env.GITISO_VSCODE_TESTS ?? '', GITISO_BENCH: process.env.GITISO_BENCH ?? '',
    // The second engine and the SSH engine in front of it (scripts/ensure-second-engine.sh), for the engines suite.
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('GITISO_TEST_ENGINE2') || name.startsWith('GITISO_TEST_SSH_'))) };
  const payload = [
    ['extensionDevelopmentPath', remote(repoRoot)],
    ['extensionTestsPath', remote(suiteIndex)],
    ['extensionEnvironment', JSON.stringify(env)],
  ];
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  exitCode = await finished;
} finally {
  await browser.close();
  server.stop();
}
if (exitCode !== 0 && failed === 0) {
  failed = 1; // the suite did not load or did not finish
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode === 0 && failed === 0 ? 0 : 1);
