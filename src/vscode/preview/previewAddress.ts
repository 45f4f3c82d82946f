import * as vscode from 'vscode';
import { GitisoError, SharedOriginError } from '../../core/errors';
import { frameTarget, type FrameTarget } from '../../webview/protocol/previewOrigin';

/** `gitiso.preview.address`: which address of a forward the browser loads. */
export type PreviewAddressSetting = 'auto' | 'forwarded';

export const PREVIEW_ADDRESS_SETTING = 'gitiso.preview.address';

export function previewAddressSetting(): PreviewAddressSetting {
  return vscode.workspace.getConfiguration('gitiso').get<string>('preview.address') === 'forwarded' ? 'forwarded' : 'auto';
}

/**
 * Where the browser reaches a forward (`http://127.0.0.1:PORT`): the address
 * itself with `forwarded`, else what VS Code maps it to (asExternalUri: the
 * same in desktop VS Code, a tunnel in remote windows, a proxy URL in
 * code-server). Whether that origin is the forward's own is in the result.
 */
export async function browserAddress(forwardUrl: string): Promise<FrameTarget> {
  const address = previewAddressSetting() === 'forwarded' ? forwardUrl : (await vscode.env.asExternalUri(vscode.Uri.parse(forwardUrl, true))).toString(true);
  const target = frameTarget(address);
  if (!target) {
    throw new GitisoError(`the forward ${forwardUrl} is reached at ${address}, which is not an http address a browser can load: set ${PREVIEW_ADDRESS_SETTING} to 'forwarded' if this browser runs on this machine`);
  }
  return target;
}

/**
 * Opens the agent's page in the browser, only where it gets an origin of its
 * own: at the top level nothing can sandbox it. openExternal maps a localhost
 * address as asExternalUri does (code-server: to /proxy/PORT/ on its own
 * origin), so the check is on where it would really go.
 */
export async function openInBrowser(target: FrameTarget, path = '/'): Promise<void> {
  const url = target.baseUrl + path;
  const opened = target.ownOrigin ? frameTarget((await vscode.env.asExternalUri(vscode.Uri.parse(target.baseUrl, true))).toString(true)) : undefined;
  if (opened?.ownOrigin) {
    await vscode.env.openExternal(vscode.Uri.parse(url, true));
    return;
  }
  if (!target.ownOrigin) {
    throw new SharedOriginError(target.baseUrl);
  }
  // The forwarded address is fine; only VS Code's way of opening it is not: the user can open it.
  const copy = 'Copy Address';
  const choice = await vscode.window.showInformationMessage(`VS Code would open the page through its own origin, where it could read VS Code's files: open ${url} in this browser yourself.`, copy);
  if (choice === copy) {
    await vscode.env.clipboard.writeText(url);
  }
}
