// Serves a real VS Code (code-server) on 127.0.0.1 with the freshly packaged
// gitiso.vsix installed, until Ctrl-C. Used by `npm start` (scripts/run-demo.sh).
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { installExtension, startCodeServer } from './codeServer.mjs';

const { values } = parseArgs({ options: { workspace: { type: 'string' }, image: { type: 'string' }, network: { type: 'string' }, port: { type: 'string' } } });
const repoRoot = resolve(import.meta.dirname, '..', '..');
const home = execFileSync('bash', [join(repoRoot, 'scripts/vscode/install-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
const server = await startCodeServer({
  home,
  port: Number(values.port ?? process.env.GITISO_DEMO_PORT ?? 8080),
  settings: { 'gitiso.image': values.image ?? '', 'gitiso.network': values.network ?? '' },
  // The demo's browser runs on this machine: previews load the forwarded address, an origin of their own that works fully.
  machineSettings: { 'gitiso.preview.address': 'forwarded' },
  beforeStart: (extensionsDir) => installExtension(home, extensionsDir, join(repoRoot, 'gitiso.vsix')),
});
const stop = () => {
  server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
console.log(`\nVS Code with gitiso: ${server.url}/?folder=${encodeURIComponent(values.workspace ?? '')}`);
console.log('Open the Git Isolation view in the activity bar, then Create Agent. Ctrl-C stops the server.');
setInterval(() => undefined, 1 << 30);
