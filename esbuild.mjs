// Bundles the extension and the CLI for Node, and the webview scripts for the
// browser. `vscode` is provided by the host; ssh2's optional native helpers
// (cpu-features, *.node) are left out: ssh2 falls back to pure JS when they are
// missing. Type-checking is `npm run compile`'s job.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const anyBundle = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

const nodeBundle = {
  ...anyBundle,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode', 'cpu-features', '*.node'],
};

const contexts = await Promise.all([
  esbuild.context({ ...nodeBundle, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' }),
  esbuild.context({
    ...nodeBundle,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  }),
  // One script per webview page, each a self-contained IIFE loaded by its panel from dist/webview/.
  esbuild.context({
    ...anyBundle,
    platform: 'browser',
    target: 'es2020',
    format: 'iife',
    entryPoints: { preview: 'src/webview/preview.ts', stats: 'src/webview/stats.ts' },
    outdir: 'dist/webview',
  }),
]);

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
