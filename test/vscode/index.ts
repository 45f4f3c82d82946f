import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

/**
 * Entry point of the extension-host suites: @vscode/test-electron (desktop)
 * and scripts/vscode/run-extension-tests.mjs (code-server) both call run().
 */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  // GITISO_VSCODE_TESTS=review,stats runs only those suites (a helper working on one feature); all of them otherwise.
  const only = (process.env.GITISO_VSCODE_TESTS ?? '').split(',').filter(Boolean);
  const chosen = (name: string): boolean => only.length === 0 || only.includes(name.replace(/\.test\.js$/, ''));
  // A benchmark's suite (NAME.bench.js) runs only when named: it needs what its benchmark made (bench/treeBench.ts).
  const benchmark = (name: string): boolean => name.endsWith('.bench.js') && only.includes(name.replace(/\.bench\.js$/, ''));
  for (const file of readdirSync(__dirname).filter((name) => (name.endsWith('.test.js') && chosen(name)) || benchmark(name)).sort()) {
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
