// For machines that can download a desktop VS Code: `npm run test:vscode-desktop`
// runs the same extension-host suites (test/vscode/) with @vscode/test-cli.
// Here, where no desktop build can be downloaded, scripts/vscode/run-extension-tests.mjs
// runs them in code-server instead.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  files: 'out/test/vscode/**/*.test.js',
  mocha: { ui: 'bdd', timeout: 120_000 },
  env: { GITISO_TEST_IMAGE: process.env.GITISO_TEST_IMAGE ?? '' },
});
