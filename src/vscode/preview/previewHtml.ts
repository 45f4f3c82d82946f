import type * as vscode from 'vscode';
import type { PreviewState } from '../../webview/protocol/previewMessages';
import { cspMeta, escapeAttr, scriptTag, styleTag } from '../webview/webviewHtml';

export interface PreviewHtmlInput {
  readonly webview: Pick<vscode.Webview, 'cspSource'>;
  readonly scriptUri: vscode.Uri;
  readonly styleUri: vscode.Uri;
  /** The only origin the iframe may load, e.g. http://127.0.0.1:49152. */
  readonly frameOrigin: string;
  /** The forward's base URL; the script joins paths to it. */
  readonly baseUrl: string;
  /** What the iframe shows first: base URL plus the state's path. */
  readonly frameUrl: string;
  readonly nonce: string;
  readonly state: PreviewState;
}

/** An origin fit for the CSP; anything odd gives 'none' rather than a widened policy. */
function cspOrigin(origin: string): string {
  return /^https?:\/\/[A-Za-z0-9.\-[\]:]+$/.test(origin) ? origin : "'none'";
}

// Inline SVG elements need no img-src; currentColor follows the theme.
const ICONS = {
  back: '<path d="M10 3 5 8l5 5" />',
  forward: '<path d="m6 3 5 5-5 5" />',
  reload: '<path d="M13 8a5 5 0 1 1-1.5-3.6" /><path d="M13 2.5v2.5h-2.5" />',
  external: '<path d="M9 3h4v4" /><path d="M13 3 7.5 8.5" /><path d="M11.5 9.5V13h-8.5V4.5H6.5" />',
} as const;

function icon(name: keyof typeof ICONS): string {
  return `<svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">${ICONS[name]}</svg>`;
}

function button(id: string, label: string, name: keyof typeof ICONS, shortcut?: string): string {
  const title = shortcut ? `${label} (${shortcut})` : label;
  return `<button type="button" id="${id}" class="tool" aria-label="${escapeAttr(label)}" title="${escapeAttr(title)}">${icon(name)}</button>`;
}

/** The panel's page: a toolbar over a full-size iframe of the forward, under a strict CSP. */
export function previewHtml(input: PreviewHtmlInput): string {
  const { webview, scriptUri, styleUri, frameOrigin, baseUrl, frameUrl, nonce, state } = input;
  const frameTitle = `Preview of agent ${state.agentId}, port ${state.containerPort}`;
  // The iframe's sandbox omits allow-top-navigation: the page must not replace the webview.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
${cspMeta({ webview, nonce, extraDirectives: [`frame-src ${cspOrigin(frameOrigin)}`] })}
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styleTag(styleUri)}
<title>${escapeAttr(`${state.agentId} :${state.containerPort}`)}</title>
</head>
<body data-state="${escapeAttr(JSON.stringify(state))}" data-base-url="${escapeAttr(baseUrl)}">
<div class="toolbar" role="toolbar" aria-label="Preview navigation">
${button('back', 'Back', 'back', 'Alt+Left')}
${button('forward', 'Forward', 'forward', 'Alt+Right')}
${button('reload', 'Reload', 'reload')}
<input id="path" class="path" type="text" spellcheck="false" autocomplete="off" aria-label="Path (press Enter to go)" title="Path (press Enter to go)" value="${escapeAttr(state.path)}">
${button('open', 'Open in Browser', 'external')}
</div>
<iframe id="frame" class="frame" title="${escapeAttr(frameTitle)}" src="${escapeAttr(frameUrl)}" sandbox="allow-scripts allow-same-origin allow-forms allow-modals allow-downloads" allow="clipboard-read; clipboard-write"></iframe>
${scriptTag(scriptUri, nonce)}
</body>
</html>`;
}
