// End to end, as a user: the packaged .vsix installed into code-server, driven
// in headless Chromium through the activity bar, the command palette and the
// quick inputs. Saves a screenshot of each step in test-artifacts/ui/. Any error
// notification anywhere in the walk fails it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gitServerModule from '../../out/test/support/gitServer.js';
import engineModule from '../../out/src/core/docker/engine.js';
import fakeCodingAgentModule from '../../out/test/support/fakeCodingAgent.js';
import { answerCreateAgent, openBrowser, paletteOf, repoRoot, startWorkbench, stepRunner, testImage, watchErrorNotifications } from './workbench.mjs';

const { GitServer } = gitServerModule;
const { Engine } = engineModule;
const { fakeAgentPreset } = fakeCodingAgentModule;
const artifacts = join(repoRoot, 'test-artifacts', 'ui');
const image = testImage();
const agentId = `t-ui-${process.pid.toString(36)}`;
// A second agent, made from the CLI, so that two previews sit side by side.
const otherId = `${agentId}-b`;

const engine = new Engine();
const gitServer = await GitServer.start(engine, image);
gitServer.createRepo('webapp', {
  '.gitiso.json': JSON.stringify({ dev: 'python3 server.py' }),
  'server.py': readFileSync(join(repoRoot, 'test', 'fixtures', 'devsite', 'server.py')),
  'index.html': '<h1 id="page">webapp main</h1>\n',
  'probe.html': readFileSync(join(repoRoot, 'test', 'fixtures', 'devsite', 'probe.html')),
});
// The workspace is a clone of the served repository, so Create Agent suggests its origin.
const workspace = join(mkdtempSync(join(tmpdir(), 'gitiso-ui-')), 'webapp');
execFileSync('git', ['clone', '-q', gitServer.url('webapp'), workspace]);

// The user's own coding agent for New Task: the fake one (test/fixtures/fakeCodingAgent.py).
const server = await startWorkbench({ settings: { 'gitiso.image': image, 'gitiso.limits.memory': '256m', 'gitiso.codingAgents': [fakeAgentPreset()] } });
let counts = { passed: 0, failed: 0 };
let browser;
try {
  const opened = await openBrowser();
  browser = opened.browser;
  const { page } = opened;
  const errors = await watchErrorNotifications(page);
  /** Refusals a step brings about on purpose, and checks: their error notifications fail nothing. */
  const expectedErrors = [];
  const runner = stepRunner(page, artifacts, async () => {
    const unexpected = errors.filter((text) => !expectedErrors.some((pattern) => pattern.test(text)));
    if (unexpected.length > 0) {
      throw new Error(`an error notification appeared: ${unexpected.join(' | ')}`);
    }
  });
  const { step } = runner;
  counts = runner.counts;
  const palette = paletteOf(page);
  const quickInput = page.locator('.quick-input-widget');
  const quickInputTitle = (text) => quickInput.locator('.quick-input-title', { hasText: text }).waitFor({ timeout: 15_000 });
  const row = page.locator(`.monaco-list-row[aria-label^="agent ${agentId},"]`);

  await step('open the gitiso view and see the welcome content', async () => {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const viewButton = page.locator('.activitybar [aria-label^="Git Isolation"]').first();
    await viewButton.waitFor({ timeout: 60_000 });
    await viewButton.click();
    await page.getByText('No agents yet.').waitFor({ timeout: 60_000 });
  });

  await step('create an agent through the palette and the quick inputs', async () => {
    await palette('gitiso: Create Agent');
    await answerCreateAgent(page, { offeredRepo: gitServer.url('webapp'), id: agentId });
    await row.waitFor({ timeout: 60_000 });
  });

  await step('see the row appear, ready (its branch in the tooltip and the screen reader\'s label)', async () => {
    await page.locator(`.monaco-list-row[aria-label="agent ${agentId}, ready, branch gitiso/${agentId}"]`).waitFor({ timeout: 60_000 });
    const description = await row.locator('.label-description').innerText();
    if (!/^ready( · \d+% · [\d.]+[BKMG])?$/.test(description)) {
      throw new Error(`row description is '${description}'`);
    }
    const status = (await page.locator('.statusbar-item', { hasText: /\bagents?\b/ }).first().innerText()).trim();
    if (!/^1 agent( · \d+% · [\d.]+ (B|KB|MB|GB))?$/.test(status)) {
      throw new Error(`status bar item reads '${status}'`);
    }
  });

  await step('see the agent\'s CPU and memory in the status bar and its tooltip', async () => {
    const item = page.locator('.statusbar-item', { hasText: /\bagents?\b/ }).first();
    await page.waitForFunction(
      () => [...document.querySelectorAll('.statusbar-item')].some((el) => /^1 agent · \d+% · [\d.]+ (B|KB|MB|GB)$/.test((el.textContent ?? '').trim())),
      undefined,
      { timeout: 30_000 },
    );
    await item.hover();
    const hover = page.locator('.monaco-hover', { hasText: 'Memory / limit' });
    await hover.waitFor({ timeout: 15_000 });
    const text = await hover.innerText();
    if (!new RegExp(`${agentId}[\\s\\S]*ready[\\s\\S]*\\d+%[\\s\\S]*/ 256 MB`).test(text)) {
      throw new Error(`the tooltip reads '${text}'`);
    }
    await page.screenshot({ path: join(artifacts, 'status-bar-stats.png') });
    await page.mouse.move(700, 300);
  });

  await step('open its terminal and see git branch --show-current print the session branch', async () => {
    await palette('gitiso: Open Terminal');
    await quickInput.locator('.monaco-list-row', { hasText: agentId }).first().waitFor();
    await page.keyboard.press('Enter');
    const rows = page.locator('.terminal-wrapper.active .xterm-rows');
    await rows.waitFor({ timeout: 30_000 });
    // Wait for the shell's prompt in /workspace before typing.
    await page.waitForFunction(() => (document.querySelector('.terminal-wrapper.active .xterm-rows')?.textContent ?? '').includes('/workspace'), undefined, { timeout: 30_000 });
    await page.keyboard.type('git branch --show-current\n');
    await page.waitForFunction(
      (branch) => (document.querySelector('.terminal-wrapper.active .xterm-rows')?.textContent ?? '').includes(branch),
      `gitiso/${agentId}`,
      { timeout: 30_000 },
    );
  });

  const cli = (...args) => execFileSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], { encoding: 'utf8', env: { ...process.env, GITISO_IMAGE: image } });
  /**
   * Runs an agent command from the palette and picks the agent. The pick can close before it takes
   * the click (the workbench moves focus, as when a forwarded port's row opens): then it starts over.
   */
  const runOnAgent = async (command, id) => {
    const item = quickInput.locator('.monaco-list-row', { hasText: new RegExp(`^\\s*${id}\\s*gitiso/${id}\\s`) }).first();
    for (let attempt = 1; ; attempt++) {
      await palette(command);
      try {
        await item.click({ timeout: 15_000 });
        return;
      } catch (error) {
        if (attempt === 3) {
          throw error;
        }
        await page.keyboard.press('Escape');
      }
    }
  };
  const forwardRow = (id) => page.locator(`.monaco-list-row[aria-label^="port 3000 of ${id},"]`);
  /** The text of the page inside a preview: the dev server's frame, nested in the webview's frames. */
  const previewTexts = async () => {
    const texts = [];
    for (const frame of page.frames()) {
      const text = await frame.locator('#page').textContent({ timeout: 500 }).catch(() => undefined);
      if (text) {
        texts.push(text.trim());
      }
    }
    return texts.sort();
  };
  const waitForPreviews = async (expected) => {
    const deadline = Date.now() + 30_000;
    let seen = [];
    while (Date.now() < deadline) {
      seen = await previewTexts();
      if (JSON.stringify(seen) === JSON.stringify(expected)) {
        return;
      }
      await page.waitForTimeout(250);
    }
    throw new Error(`previews show ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`);
  };

  await step('see what the agent changed under its row, with line counts', async () => {
    const work = [
      'cd /workspace',
      'mkdir -p lib',
      'printf "export const answer = 42;\\n" > lib/answer.js',
      'git add lib/answer.js',
      'git -c user.name=ui -c user.email=ui@example.com commit -q -m "an answer"',
      'printf "# notes\\nnot committed yet\\n" > notes.md',
    ].join(' && ');
    const made = await engine.exec(`gitiso-${agentId}`, ['sh', '-c', work]);
    if (made.exitCode !== 0) {
      throw new Error(`could not change the agent's files: ${made.stderr}`);
    }
    await row.click(); // a running agent's row opens onto its Changes
    const changes = page.locator(`.monaco-list-row[aria-label="changes of ${agentId}"]`);
    await changes.waitFor({ timeout: 15_000 });
    await changes.click();
    await page.locator('.monaco-list-row[aria-label="lib/answer.js, added, +1 −0"]').waitFor({ timeout: 30_000 });
    await page.locator('.monaco-list-row[aria-label="notes.md, added, +2 −0"]').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(artifacts, 'changes-node.png') });
  });

  await step('review the agent\'s changes in the multi-file diff editor', async () => {
    await runOnAgent('gitiso: Review Changes', agentId);
    await page.locator('.tab', { hasText: `${agentId}: 2 files changed against main` }).waitFor({ timeout: 30_000 });
    await page.getByText('export const answer = 42;').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(artifacts, 'review-changes.png') });
    await palette('View: Close All Editors');
  });

  await step('start the dev servers of two agents and see their forwarded ports in the tree', async () => {
    cli('create', otherId, '--repo', gitServer.url('webapp'));
    await page.locator(`.monaco-list-row[aria-label="agent ${otherId}, ready, branch gitiso/${otherId}"]`).waitFor({ timeout: 30_000 });
    cli('git', otherId, '--', 'status'); // the CLI and the window share the agent
    await engine.exec(`gitiso-${otherId}`, ['sh', '-c', 'echo \'<h1 id="page">changed in b</h1>\' > /workspace/index.html']);
    for (const id of [agentId, otherId]) {
      await runOnAgent('gitiso: Start Dev Server', id);
      await forwardRow(id).waitFor({ timeout: 60_000 }); // its row opens by itself when the forward appears
    }
  });

  await step('open two previews side by side, each showing its own agent\'s page', async () => {
    for (const id of [agentId, otherId]) {
      await runOnAgent('gitiso: Open Preview', id);
      await page.locator('.tab', { hasText: `${id} :3000` }).waitFor({ timeout: 30_000 });
    }
    await waitForPreviews(['changed in b', 'webapp main']);
    await page.screenshot({ path: join(artifacts, 'two-previews-side-by-side.png') });
  });

  /** The webview of an agent's preview (our toolbar page), and the frame of the agent's page inside it. */
  const previewOf = async (id) => {
    for (const frame of page.frames()) {
      const state = await frame.evaluate(() => document.body?.dataset.state ?? '').catch(() => '');
      if (state.includes(`"agentId":"${id}"`)) {
        return { webview: frame, agent: frame.childFrames()[0] };
      }
    }
    return undefined;
  };
  const goTo = async (id, path) => {
    const preview = await previewOf(id);
    await preview.webview.locator('#path').fill(path);
    await preview.webview.locator('#path').press('Enter');
  };
  /** What test/fixtures/devsite/probe.html, run as the agent's page, could reach of the workbench. */
  const probe = async (id, isReady = () => true) => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const preview = await previewOf(id);
      const text = await preview?.agent?.locator('#probe').textContent({ timeout: 500 }).catch(() => undefined);
      if (text && text !== 'running') {
        const result = JSON.parse(text);
        if (isReady(result)) {
          return { ...result, frameUrl: preview.agent.url(), notice: await preview.webview.locator('#isolation').isVisible() };
        }
      }
      await page.waitForTimeout(250);
    }
    throw new Error(`the probe page did not report in the preview of ${id}`);
  };
  /** Clicks the preview's Open in Browser, and gives the address of the page it opened, if any. */
  const openInBrowser = async (id) => {
    const opened = page.context().waitForEvent('page', { timeout: 5_000 }).catch(() => undefined);
    await (await previewOf(id)).webview.locator('#open').click();
    const tab = await opened;
    const url = tab?.url();
    await tab?.close();
    return url;
  };
  /** What of the workbench the probe could reach (every try must have failed). */
  const workbenchReach = (result) => {
    const workbench = new URL(server.url).origin;
    const broken = [];
    if (result.origin === workbench) {
      broken.push(`the agent's page runs in the workbench's origin ${workbench}`);
    }
    for (const key of ['workbenchPage', 'hostFile']) {
      if (!result[key].startsWith('blocked')) {
        broken.push(`${key}: ${result[key]}`);
      }
    }
    if (result.relativeHostFile.startsWith('read 200')) {
      broken.push(`relativeHostFile: ${result.relativeHostFile}`);
    }
    for (const key of ['topDocument', 'parentDocument']) {
      if (result[key] !== 'blocked: SecurityError') {
        broken.push(`${key}: ${result[key]}`);
      }
    }
    return broken;
  };
  const assertOutOfReach = (broken) => {
    if (broken.length > 0) {
      throw new Error(`from the agent's page: ${broken.join('; ')}`);
    }
  };

  await step('from an agent\'s page in a preview, the workbench is out of reach (sandboxed where the address is VS Code\'s origin)', async () => {
    await goTo(agentId, '/probe.html');
    const result = await probe(agentId);
    console.log(`  probe: ${JSON.stringify(result)}`);
    const broken = workbenchReach(result);
    // code-server without a proxy domain has only its own origin to offer: the page runs in an opaque one, and the toolbar says so.
    if (new URL(result.frameUrl).origin === new URL(server.url).origin && (result.origin !== 'null' || !result.notice)) {
      broken.push(`the page at ${result.frameUrl} runs in origin ${result.origin}, notice shown: ${result.notice}`);
    }
    await page.screenshot({ path: join(artifacts, 'preview-sandboxed.png') });
    // Nothing can sandbox a page at the top level: Open in Browser must not open it in the workbench's origin.
    expectedErrors.push(new RegExp(`^gitiso: could not open ${agentId}:3000 in the browser: .* is VS Code's own origin`));
    const opened = await openInBrowser(agentId);
    if (opened && new URL(opened).origin === new URL(server.url).origin) {
      broken.push(`Open in Browser opened the agent's page at ${opened}, the workbench's origin`);
    } else if (!(await page.getByText("is VS Code's own origin").first().isVisible().catch(() => false))) {
      broken.push(`Open in Browser opened ${opened ?? 'nothing'} and said nothing`);
    }
    assertOutOfReach(broken);
  });

  await step('with gitiso.preview.address forwarded, the page has its own origin, works fully, and the workbench is still out of reach', async () => {
    // A machine setting: in code-server's (remote) window it is read from the Machine settings, as `npm start` writes it.
    writeFileSync(join(server.userDataDir, 'Machine', 'settings.json'), JSON.stringify({ 'gitiso.preview.address': 'forwarded' }, null, 2));
    const result = await probe(agentId, (r) => r.origin !== 'null');
    console.log(`  probe: ${JSON.stringify(result)}`);
    const broken = workbenchReach(result);
    if (result.origin !== new URL(result.frameUrl).origin || result.notice) {
      broken.push(`the page at ${result.frameUrl} runs in origin ${result.origin}, notice shown: ${result.notice}`);
    }
    const other = await previewOf(otherId);
    if (new URL(other.agent.url()).origin === result.origin) {
      broken.push(`both agents' previews share the origin ${result.origin}`);
    }
    // code-server's openExternal would send the forwarded address through its /proxy/: the page's own address is offered instead.
    const opened = await openInBrowser(agentId);
    if (opened ? !opened.startsWith(`${result.origin}/`) : !(await page.getByText(`open ${result.origin}/probe.html in this browser yourself`).first().isVisible().catch(() => false))) {
      broken.push(`Open in Browser opened ${opened ?? 'nothing'}, not the forwarded address ${result.origin}`);
    }
    assertOutOfReach(broken);
    await goTo(agentId, '/');
    await waitForPreviews(['changed in b', 'webapp main']);
  });

  await step('stop forwarding an agent\'s port, see its preview say so, and forward it again from the preview', async () => {
    await runOnAgent('gitiso: Stop Forwarding', agentId);
    await forwardRow(agentId).waitFor({ state: 'detached', timeout: 15_000 });
    // Nothing of the old address is shown: only the other agent's page is left.
    await waitForPreviews(['changed in b']);
    let again;
    for (const deadline = Date.now() + 15_000; !again; await page.waitForTimeout(250)) {
      const button = (await previewOf(agentId))?.webview.locator('#forward-again');
      if (button && (await button.isVisible().catch(() => false))) {
        again = button;
      } else if (Date.now() > deadline) {
        throw new Error(`the preview of ${agentId} does not offer to forward again`);
      }
    }
    await page.screenshot({ path: join(artifacts, 'preview-forward-gone.png') });
    await again.click();
    await waitForPreviews(['changed in b', 'webapp main']);
    await forwardRow(agentId).waitFor({ timeout: 15_000 });
  });

  await step('reload the window and see both previews come back', async () => {
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    for (const id of [agentId, otherId]) {
      await page.locator('.tab', { hasText: `${id} :3000` }).waitFor({ timeout: 60_000 });
    }
    await waitForPreviews(['changed in b', 'webapp main']);
  });

  await step('remove the other agent from the CLI and see its preview close', async () => {
    cli('rm', otherId);
    await page.locator('.tab', { hasText: `${otherId} :3000` }).waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByText(`Agent ${otherId} stopped or was removed`).first().waitFor({ timeout: 15_000 });
  });

  await step('remove it through the palette with the modal confirmation', async () => {
    const item = quickInput.locator('.monaco-list-row', { hasText: agentId }).first();
    // The pick can close under the click when the window moves focus (a preview's frame reloading): open it again, as a user would.
    for (let attempt = 1; ; attempt++) {
      await palette('gitiso: Remove Agent');
      await item.waitFor();
      try {
        await item.click({ timeout: 10_000 });
        break;
      } catch (error) {
        if (attempt === 3) {
          throw error;
        }
        await page.keyboard.press('Escape');
      }
    }
    await quickInput.getByText('1 Selected').waitFor({ timeout: 5_000 });
    await page.keyboard.press('Enter');
    const remove = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Remove' });
    await remove.waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(artifacts, '05a-confirmation.png') });
    await remove.click();
    await row.waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByText('No agents yet.').waitFor({ timeout: 30_000 });
    if (await engine.inspectContainer(`gitiso-${agentId}`)) {
      throw new Error('the container is still there');
    }
  });

  const prompt = 'ask before writing the task down';
  /** The agents New Task made (named by the command: task-1, task-2 or the next free ones), read from what it says. */
  let taskIds = [];
  /** Waits until each agent's row description reads `word` first (`working · 3% · 120M`). */
  const rowsRead = (ids, word, timeout) => page.waitForFunction(
    ({ ids, word }) => ids.every((id) => {
      const description = document.querySelector(`.monaco-list-row[aria-label^="agent ${id},"] .label-description`)?.textContent ?? '';
      return description === word || description.startsWith(`${word} ·`);
    }),
    { ids, word },
    { timeout },
  );
  /** The active terminal's screen holds `text` (and not `unlike`: what the terminal before it showed). */
  const terminalShows = (text, unlike = undefined) => page.waitForFunction(
    ({ text, unlike }) => {
      const screen = document.querySelector('.terminal-wrapper.active .xterm-rows')?.textContent ?? '';
      return screen.includes(text) && !(unlike && screen.includes(unlike));
    },
    { text, unlike },
    { timeout: 30_000 },
  );

  await step('give a task to two new agents with New Task… from the palette', async () => {
    await palette('gitiso: New Task');
    await quickInputTitle('New Task: Prompt');
    await quickInput.locator('input').fill(prompt);
    await page.keyboard.press('Enter');
    await quickInputTitle('New Task: Coding agent');
    await quickInput.locator('.monaco-list-row', { hasText: 'fake' }).first().waitFor();
    await page.screenshot({ path: join(artifacts, 'new-task.png') });
    await quickInput.locator('input').fill('fake'); // the user's own, beside the built-in ones
    await quickInput.locator('.monaco-list-row', { hasText: 'claude-code' }).waitFor({ state: 'detached' });
    await page.keyboard.press('Enter');
    await quickInputTitle('New Task: How many agents?');
    await quickInput.locator('input').fill('2');
    await page.keyboard.press('Enter');
    await quickInputTitle('Repository');
    const offered = await quickInput.locator('input').inputValue();
    if (offered !== gitServer.url('webapp')) {
      throw new Error(`the repository offered is '${offered}', not the workspace's origin`);
    }
    await page.keyboard.press('Enter');
    await quickInputTitle('Base branch');
    await quickInput.locator('.monaco-list-row', { hasText: 'main' }).first().waitFor();
    await page.keyboard.press('Enter');
    const told = page.locator('.notification-list-item', { hasText: 'fake is working on the task in' }).first();
    await told.waitFor({ timeout: 60_000 });
    taskIds = /working on the task in (.+?)\. Open Terminal/.exec(await told.innerText())?.[1].split(', ') ?? [];
    if (taskIds.length !== 2) {
      throw new Error(`New Task says: ${await told.innerText()}`);
    }
  });

  await step('see both rows read working', async () => {
    // The fake agent asks before it ends: it works until answered (quiet for 15 s, it would read waiting).
    await rowsRead(taskIds, 'working', 15_000);
    await page.screenshot({ path: join(artifacts, 'task-rows.png') });
  });

  await step('attach a terminal to each session, see the agent\'s output, answer it, and see its row read finished', async () => {
    for (const [index, id] of taskIds.entries()) {
      await runOnAgent('gitiso: Open Terminal', id);
      await terminalShows('shall I go on?', "the user said 'yes'");
      await terminalShows(`fake agent: working on '${prompt}'`);
      if (index === 0) {
        await page.screenshot({ path: join(artifacts, 'task-terminal.png') });
      }
      await page.keyboard.type('yes\n');
      await terminalShows("the user said 'yes'");
      await rowsRead([id], 'finished', 15_000);
    }
    await rowsRead(taskIds, 'finished', 1_000);
  });
} catch (error) {
  if (counts.failed === 0) {
    counts.failed++;
    console.log(`✖ ui end-to-end: ${error.message}`);
  }
} finally {
  await browser?.close();
  server.stop();
  await engine.removeContainer(`gitiso-${agentId}`).catch(() => undefined);
  await engine.removeContainer(`gitiso-${otherId}`).catch(() => undefined);
  // New Task's agents, whatever it named them: every agent of this run's repository.
  for (const made of await engine.listContainers(`gitiso.repo=${gitServer.url('webapp')}`).catch(() => [])) {
    await engine.removeContainer(made.Id).catch(() => undefined);
  }
  await gitServer.stop();
}
console.log(`screenshots: ${artifacts}`);
console.log(`${counts.passed} passed, ${counts.failed} failed`);
process.exit(counts.failed > 0 ? 1 : 0);
