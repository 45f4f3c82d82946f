// The page of a gitiso preview (src/vscode/preview), bundled by esbuild.mjs:
// a toolbar over the agent's page, or, when the agent's forward is gone, a way to forward again.
// The page in the iframe is cross-origin: its history and location are out of reach,
// so back and forward walk our own stack of paths and every move sets the iframe's src.
import { elementById } from './dom';
import { joinUrl, normalizePath, parseToWebview, type FromWebview, type PreviewState } from './protocol/previewMessages';
import { mayKeepOrigin } from './protocol/previewOrigin';

const vscode = acquireVsCodeApi<FromWebview, PreviewState>();
// Written by previewHtml.ts from the panel's PreviewState.
const state = JSON.parse(document.body.dataset.state || '{}') as PreviewState;

function persist(path: string): void {
  // The serializer gets this back after a restart.
  vscode.setState({ agentId: state.agentId, containerPort: state.containerPort, path });
}

/** The origins this page is embedded in: its own (the webview's), then its ancestors' up to the workbench. */
function embeddingOrigins(): string[] {
  // Chromium (VS Code, and code-server's usual browsers) has ancestorOrigins; elsewhere the panel's verdict stands alone.
  return [location.origin, ...Array.from(location.ancestorOrigins ?? [])];
}

function showGone(): void {
  elementById('forward-again', HTMLButtonElement).addEventListener('click', () => vscode.postMessage({ type: 'forwardAgain' }));
  persist(normalizePath(state.path) ?? '/');
  vscode.postMessage({ type: 'ready' });
}

function showFrame(): void {
  const frame = elementById('frame', HTMLIFrameElement);
  const pathBox = elementById('path', HTMLInputElement);
  const backButton = elementById('back', HTMLButtonElement);
  const forwardButton = elementById('forward', HTMLButtonElement);
  const reloadButton = elementById('reload', HTMLButtonElement);
  const openButton = elementById('open', HTMLButtonElement);
  const notice = elementById('isolation', HTMLElement);

  const baseUrl = document.body.dataset.baseUrl ?? '';
  const history = [normalizePath(state.path) ?? '/'];
  let index = 0;

  const current = (): string => history[index];

  /** Points the iframe at the current path and tells everyone where we are. */
  const show = (): void => {
    const path = current();
    frame.src = joinUrl(baseUrl, path);
    pathBox.value = path;
    backButton.disabled = index === 0;
    forwardButton.disabled = index === history.length - 1;
    persist(path);
    vscode.postMessage({ type: 'navigated', path });
  };

  const reload = (): void => {
    // Setting src again navigates the frame again, even to the same URL.
    frame.src = joinUrl(baseUrl, current());
  };

  const navigate = (input: string): void => {
    const path = normalizePath(input);
    if (path === undefined) {
      pathBox.value = current();
      return;
    }
    if (path === current()) {
      pathBox.value = path;
      reload(); // as a browser does for the same address: no new history entry
      return;
    }
    history.splice(index + 1);
    history.push(path);
    index = history.length - 1;
    show();
  };

  const go = (step: number): void => {
    const next = index + step;
    if (next >= 0 && next < history.length) {
      index = next;
      show();
    }
  };

  backButton.addEventListener('click', () => go(-1));
  forwardButton.addEventListener('click', () => go(1));
  reloadButton.addEventListener('click', reload);
  openButton.addEventListener('click', () => vscode.postMessage({ type: 'openExternal' }));

  pathBox.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      navigate(pathBox.value);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      pathBox.value = current();
      pathBox.select();
    }
  });

  // Alt+Left/Right as in a browser; not in the path box, where they move the caret.
  document.addEventListener('keydown', (event) => {
    if (event.target === pathBox || !event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    if (event.key === 'ArrowLeft') {
      event.preventDefault();
      go(-1);
    } else if (event.key === 'ArrowRight') {
      event.preventDefault();
      go(1);
    }
  });

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const message = parseToWebview(event.data);
    if (!message) {
      return; // not one of ours: ignored
    }
    switch (message.type) {
      case 'reload':
        reload();
        return;
      case 'navigate':
        navigate(message.path);
        return;
    }
  });

  // The sandbox is settled before the first load: a change applies only to later navigations.
  const target = { origin: document.body.dataset.origin ?? '', ownOrigin: document.body.dataset.ownOrigin === 'true' };
  if (!mayKeepOrigin(target, embeddingOrigins())) {
    frame.sandbox.remove('allow-same-origin');
    notice.hidden = false;
  }
  backButton.disabled = true;
  forwardButton.disabled = true;
  frame.src = joinUrl(baseUrl, current());
  persist(current());
  vscode.postMessage({ type: 'ready' });
}

if (document.body.dataset.view === 'gone') {
  showGone();
} else {
  showFrame();
}
