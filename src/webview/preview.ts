// The toolbar of a gitiso preview (src/vscode/preview), bundled by esbuild.mjs.
// The page in the iframe is cross-origin: its history and location are out of reach,
// so back and forward walk our own stack of paths and every move sets the iframe's src.
import { elementById } from './dom';
import { joinUrl, normalizePath, parseToWebview, type FromWebview, type PreviewState } from './protocol/previewMessages';

const vscode = acquireVsCodeApi<FromWebview, PreviewState>();
const frame = elementById('frame', HTMLIFrameElement);
const pathBox = elementById('path', HTMLInputElement);
const backButton = elementById('back', HTMLButtonElement);
const forwardButton = elementById('forward', HTMLButtonElement);
const reloadButton = elementById('reload', HTMLButtonElement);
const openButton = elementById('open', HTMLButtonElement);

// Written by previewHtml.ts from the panel's PreviewState.
const state = JSON.parse(document.body.dataset.state || '{}') as PreviewState;
let baseUrl = document.body.dataset.baseUrl ?? '';
const history = [normalizePath(state.path) ?? '/'];
let index = 0;

function current(): string {
  return history[index];
}

function persist(path: string): void {
  // The serializer gets this back after a restart.
  vscode.setState({ agentId: state.agentId, containerPort: state.containerPort, path });
}

/** Points the iframe at the current path and tells everyone where we are. */
function show(): void {
  const path = current();
  frame.src = joinUrl(baseUrl, path);
  pathBox.value = path;
  backButton.disabled = index === 0;
  forwardButton.disabled = index === history.length - 1;
  persist(path);
  vscode.postMessage({ type: 'navigated', path });
}

function navigate(input: string): void {
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
}

function go(step: number): void {
  const next = index + step;
  if (next >= 0 && next < history.length) {
    index = next;
    show();
  }
}

function reload(): void {
  // Setting src again navigates the frame again, even to the same URL.
  frame.src = joinUrl(baseUrl, current());
}

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
    case 'setUrl':
      baseUrl = message.url;
      reload();
      return;
  }
});

// The iframe already loads the first path from the HTML; only the state and buttons need setting.
backButton.disabled = true;
forwardButton.disabled = true;
persist(current());
vscode.postMessage({ type: 'ready' });
