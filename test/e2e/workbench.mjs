// What the UI end-to-end walks share: code-server with the freshly packaged
// .vsix, Chromium, named steps with a screenshot each, the command palette as
// a user opens it, and a watch on error notifications.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, installExtension, startCodeServer } from '../../scripts/vscode/codeServer.mjs';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

/** The test image every walk creates agents from (built by npm test). */
export function testImage() {
  const image = process.env.GITISO_TEST_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_IMAGE is not set: run the tests with npm test');
  }
  return image;
}

/** code-server with gitiso installed from a .vsix packaged from this checkout. */
export async function startWorkbench({ settings, machineSettings }) {
  const home = execFileSync('bash', [join(repoRoot, 'scripts/vscode/install-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
  execFileSync('npx', ['vsce', 'package', '--no-dependencies', '--out', 'gitiso.vsix'], { cwd: repoRoot, stdio: 'ignore' });
  return startCodeServer({
    home,
    settings,
    machineSettings,
    beforeStart: (extensionsDir) => installExtension(home, extensionsDir, join(repoRoot, 'gitiso.vsix')),
  });
}

export async function openBrowser() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  return { browser, page };
}

/**
 * Named steps, each ending with a screenshot in `artifacts` (numbered, so the
 * folder reads as the walk); `afterEach` may throw to fail a step that
 * otherwise passed. The counts feed the closing "N passed, N failed" line.
 */
export function stepRunner(page, artifacts, afterEach = async () => undefined) {
  mkdirSync(artifacts, { recursive: true });
  const counts = { passed: 0, failed: 0 };
  let number = 0;
  const step = async (name, body) => {
    number++;
    const started = Date.now();
    try {
      await body();
      await afterEach();
      counts.passed++;
      console.log(`✔ ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      counts.failed++;
      console.log(`✖ ${name}: ${error.message}`);
      throw error;
    } finally {
      await page.screenshot({ path: join(artifacts, `${String(number).padStart(2, '0')}-${name.replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
    }
  };
  return { step, counts };
}

/** Runs a command from the palette (F1), opening it again if the command is not listed yet. */
export function paletteOf(page) {
  return async (command) => {
    // Focus the workbench first: keys pressed while a preview's page has focus go to that page.
    await page.locator('.part.sidebar .composite.title').click();
    const input = page.locator('.quick-input-widget input');
    const listed = page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first();
    // The palette filters once, as it opens: a command whose `when` turns true just after (isWorkspaceTrusted
    // right after the window loads) shows only when it is opened again, as a user would.
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${command}`);
      try {
        await listed.waitFor({ timeout: 10_000 });
        break;
      } catch (error) {
        if (attempt === 3) {
          throw error;
        }
        await page.keyboard.press('Escape');
      }
    }
    await page.keyboard.press('Enter');
  };
}

/**
 * Every error notification the workbench shows from now on, across reloads:
 * a watcher in the page reports each error toast's text as it appears, so a
 * toast that closes by itself is still seen.
 */
export async function watchErrorNotifications(page) {
  const seen = [];
  await page.exposeFunction('gitisoTestSawError', (text) => {
    if (!seen.includes(text)) {
      seen.push(text);
    }
  });
  await page.addInitScript(() => {
    if (window !== window.top) {
      return; // webviews and previews have no notifications
    }
    const report = () => {
      for (const item of document.querySelectorAll('.notification-list-item')) {
        if (item.querySelector('.codicon-error')) {
          const text = item.querySelector('.notification-list-item-message')?.textContent ?? item.textContent ?? '';
          void window.gitisoTestSawError(text.trim());
        }
      }
    };
    new MutationObserver(report).observe(document, { childList: true, subtree: true });
  });
  return seen;
}

/**
 * Answers Create Agent's quick inputs as a newcomer does: the repository it
 * offers (which must be `offeredRepo`, the workspace's origin), the base
 * branch main, then `id`.
 */
export async function answerCreateAgent(page, { offeredRepo, id }) {
  const quickInput = page.locator('.quick-input-widget');
  const title = (text) => quickInput.locator('.quick-input-title', { hasText: text }).waitFor({ timeout: 15_000 });
  await title('Repository');
  const offered = await quickInput.locator('input').inputValue();
  if (offered !== offeredRepo) {
    throw new Error(`the repository offered is '${offered}', not the workspace's origin ${offeredRepo}`);
  }
  await page.keyboard.press('Enter');
  await title('Base branch');
  await quickInput.locator('.monaco-list-row', { hasText: 'main' }).first().waitFor();
  await page.keyboard.press('Enter');
  await title('Agent id');
  await quickInput.locator('input').fill(id);
  await page.keyboard.press('Enter');
}
