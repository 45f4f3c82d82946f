import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

/**
 * Entry point of the extension-host suites: @vscode/test-electron (desktop)
 * and scripts/vscode/run-extension-tests.mjs (code-server) both call run().
 */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  for (const file of readdirSync(__dirname).filter((name) => name.endsWith('.test.js')).sort()) {
    mocha.addFile(join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      console.log(`gitiso-suite: ${runner.stats?.passes ?? 0} passed, ${failures} failed`);
      if (failures > 0) {
        reject(new Error(`${failures} extension tests failed`));
      } else {
        resolve();
      }
    });
  });
}
