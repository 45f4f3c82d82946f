// Starts code-server (a real VS Code workbench) on 127.0.0.1 for the tests and
// the demo, in its own process group so that stopping it ends its extension
// host too. Settings keep the workbench quiet: no welcome page, tips, chat or
// gallery look-ups.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'terminal.integrated.gpuAcceleration': 'off',
  'window.commandCenter': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'git.openRepositoryInParentFolders': 'never',
};

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * @param {{ home: string, settings?: object, machineSettings?: object, extraArgs?: string[], port?: number, log?: (line: string) => void, beforeStart?: (extensionsDir: string) => Promise<void> }} options
 */
export async function startCodeServer(options) {
  const root = mkdtempSync(join(tmpdir(), 'gitiso-code-server-'));
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2));
  // code-server's window is a remote one: machine-scoped settings (gitiso.image, gitiso.network,
  // gitiso.limits.*, gitiso.preview.address…) are read from the remote machine's settings, not the local user's.
  mkdirSync(join(userDataDir, 'Machine'), { recursive: true });
  writeFileSync(join(userDataDir, 'Machine', 'settings.json'), JSON.stringify({ ...options.settings, ...options.machineSettings }, null, 2));
  await options.beforeStart?.(extensionsDir);
  const port = options.port ?? (await freePort());
  const args = [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    ...(options.extraArgs ?? []),
  ];
  const env = { ...process.env, EXTENSIONS_GALLERY: '{}' };
  const child = spawn(join(options.home, 'ready'), args, { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = options.log ?? (() => undefined);
  let output = '';
  const listening = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split('\n').filter(Boolean)) {
        log(line);
      }
      if (/HTTP server listening/.test(output)) {
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`code-server exited with ${code} before listening:\n${output}`)));
    setTimeout(() => reject(new Error(`code-server did not listen within 60 s:\n${output}`)), 60_000).unref();
  });
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  try {
    await listening;
  } catch (error) {
    stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, port, root, userDataDir, extensionsDir, stop };
}

/** Installs a .vsix into an extensions folder with code-server's own CLI. */
export async function installExtension(home, extensionsDir, vsix) {
  await new Promise((resolve, reject) => {
    const child = spawn(join(home, 'ready'), ['--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'], { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`installing ${vsix} failed with ${code}`))));
  });
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
