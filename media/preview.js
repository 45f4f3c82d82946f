/* global acquireVsCodeApi, document, window */
// The toolbar of a gitiso preview (src/vscode/preview). Plain browser script, no build.
// The page in the iframe is cross-origin: its history and location are out of reach,
// so back and forward walk our own stack of paths and every move sets the iframe's src.
(function () {
  'use strict';

  const vscode = acquireVsCodeApi();
  const frame = document.getElementById('frame');
  const pathBox = document.getElementById('path');
  const backButton = document.getElementById('back');
  const forwardButton = document.getElementById('forward');
  const reloadButton = document.getElementById('reload');
  const openButton = document.getElementById('open');

  const state = JSON.parse(document.body.dataset.state || '{}');
  let baseUrl = (document.body.dataset.baseUrl || '').replace(/\/+$/, '');
  const history = [normalizePath(state.path) || '/'];
  let index = 0;

  /** Mirrors normalizePath in previewMessages.ts: trimmed, a leading '/', no control characters. */
  function normalizePath(input) {
    const trimmed = String(input === undefined || input === null ? '' : input).trim();
    const path = trimmed.startsWith('/') ? trimmed : '/' + trimmed;
    for (let i = 0; i < path.length; i++) {
      const code = path.charCodeAt(i);
      if (code < 0x20 || code === 0x7f) {
        return undefined;
      }
    }
    return path.length <= 4096 ? path : undefined;
  }

  function current() {
    return history[index];
  }

  /** Points the iframe at the current path and tells everyone where we are. */
  function show() {
    const path = current();
    frame.src = baseUrl + path;
    pathBox.value = path;
    backButton.disabled = index === 0;
    forwardButton.disabled = index === history.length - 1;
    // The serializer gets this back after a restart.
    vscode.setState({ agentId: state.agentId, containerPort: state.containerPort, path: path });
    vscode.postMessage({ type: 'navigated', path: path });
  }

  function navigate(input) {
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

  function go(step) {
    const next = index + step;
    if (next >= 0 && next < history.length) {
      index = next;
      show();
    }
  }

  function reload() {
    // Setting src again navigates the frame again, even to the same URL.
    frame.src = baseUrl + current();
  }

  backButton.addEventListener('click', function () { go(-1); });
  forwardButton.addEventListener('click', function () { go(1); });
  reloadButton.addEventListener('click', reload);
  openButton.addEventListener('click', function () { vscode.postMessage({ type: 'openExternal' }); });

  pathBox.addEventListener('keydown', function (event) {
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
  document.addEventListener('keydown', function (event) {
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

  window.addEventListener('message', function (event) {
    const message = event.data;
    if (!message || typeof message !== 'object') {
      return;
    }
    switch (message.type) {
      case 'reload':
        reload();
        break;
      case 'navigate':
        navigate(message.path);
        break;
      case 'setUrl':
        if (typeof message.url === 'string') {
          baseUrl = message.url.replace(/\/+$/, '');
          reload();
        }
        break;
      default:
        break; // unknown: ignored
    }
  });

  // The iframe already loads the first path from the HTML; only the state and buttons need setting.
  backButton.disabled = true;
  forwardButton.disabled = true;
  vscode.setState({ agentId: state.agentId, containerPort: state.containerPort, path: current() });
  vscode.postMessage({ type: 'ready' });
})();
