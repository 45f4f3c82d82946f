/**
 * What the preview and stats panels share to build their pages: where their
 * files are, a nonce, attribute escaping, and the strict CSP with its tags.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Styles and icons, shipped as they are. */
const MEDIA = ['media'];
/** The webview scripts, bundled from src/webview by esbuild.mjs. */
const SCRIPTS = ['dist', 'webview'];

export function mediaUri(extensionUri: vscode.Uri, file: string): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, ...MEDIA, file);
}

export function webviewScriptUri(extensionUri: vscode.Uri, file: string): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, ...SCRIPTS, file);
}

/** The only folders a panel's page may load from (its localResourceRoots). */
export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, ...MEDIA), vscode.Uri.joinPath(extensionUri, ...SCRIPTS)];
}

/** A fresh nonce for each render, so only our script runs. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface CspInput {
  readonly webview: Pick<vscode.Webview, 'cspSource'>;
  readonly nonce: string;
  /** Directives a page needs beyond its script and style, e.g. a frame-src. */
  readonly extraDirectives?: readonly string[];
}

/** The page's CSP: nothing by default, our nonce's script, our styles; no 'unsafe-inline'. */
export function cspMeta({ webview, nonce, extraDirectives = [] }: CspInput): string {
  const csp = ["default-src 'none'", ...extraDirectives, `script-src 'nonce-${nonce}'`, `style-src ${webview.cspSource}`].join('; ');
  return `<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">`;
}

export function styleTag(styleUri: vscode.Uri): string {
  return `<link rel="stylesheet" href="${escapeAttr(styleUri.toString())}">`;
}

export function scriptTag(scriptUri: vscode.Uri, nonce: string): string {
  return `<script nonce="${escapeAttr(nonce)}" src="${escapeAttr(scriptUri.toString())}"></script>`;
}
