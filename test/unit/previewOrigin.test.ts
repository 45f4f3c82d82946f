import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameSource, frameTarget, mayKeepOrigin } from '../../src/webview/protocol/previewOrigin';

const WORKBENCH = 'http://127.0.0.1:8080';

describe('preview origins', () => {
  it('gives the forward its own origin where the address is one: the forwarded address, a localhost tunnel, a proxy domain', () => {
    for (const address of ['http://127.0.0.1:3000', 'http://127.0.0.1:3000/', 'http://localhost:51234/', 'https://3000.preview.example.com/']) {
      const target = frameTarget(address);
      assert.ok(target, address);
      assert.equal(target.ownOrigin, true, address);
      assert.equal(target.baseUrl, address.replace(/\/$/, ''));
      assert.equal(frameSource(target), target.origin);
      assert.equal(mayKeepOrigin(target, ['vscode-webview://abc', 'vscode-file://vscode-app']), true, address);
    }
  });

  it('sandboxes a forward under a path of the workbench\'s server (code-server\'s /proxy/PORT/), even where the browser does not tell its ancestors', () => {
    const target = frameTarget(`${WORKBENCH}/proxy/3000/`);
    assert.ok(target);
    assert.deepEqual(target, { baseUrl: `${WORKBENCH}/proxy/3000`, origin: WORKBENCH, ownOrigin: false });
    // The frame may load only the forward's path, never the workbench's pages.
    assert.equal(frameSource(target), `${WORKBENCH}/proxy/3000/`);
    assert.equal(mayKeepOrigin(target, []), false);
    assert.equal(mayKeepOrigin(target, [WORKBENCH]), false);
  });

  it('sandboxes a page whose origin is one that embeds the preview, whatever the address looked like', () => {
    const target = frameTarget(`${WORKBENCH}/`);
    assert.ok(target);
    assert.equal(mayKeepOrigin(target, ['http://127.0.0.1:8080/']), false);
    assert.equal(mayKeepOrigin(target, ['HTTP://127.0.0.1:8080']), false);
    assert.equal(mayKeepOrigin(frameTarget('http://127.0.0.1:3000') ?? assert.fail(), [WORKBENCH]), true);
  });

  it('refuses addresses a frame must not load or a policy could misread', () => {
    for (const address of ['vscode-webview://abc/index.html', 'javascript:alert(1)', 'http://user:pw@127.0.0.1:3000/', 'http://127.0.0.1:3000/?a=1', 'http://127.0.0.1:3000/#x', 'not a url']) {
      assert.equal(frameTarget(address), undefined, address);
    }
    const odd = frameTarget(`${WORKBENCH}/proxy/3000;script-src/`);
    assert.ok(odd);
    assert.equal(frameSource(odd), "'none'");
  });
});
