import type * as vscode from 'vscode';
import type { PreviewState } from '../../webview/protocol/previewMessages';
import { frameSource, type FrameTarget } from '../../webview/protocol/previewOrigin';
import { cspMeta, escapeAttr, scriptTag, styleTag } from '../webview/webviewHtml';

export interface PreviewHtmlInput {
  readonly webview: Pick<vscode.Webview, 'cspSource'>;
  readonly scriptUri: vscode.Uri;
  readonly styleUri: vscode.Uri;
  /** Where the frame loads from; undefined when the agent's forward is gone (the page offers to forward again). */
  readonly target: FrameTarget | undefined;
  readonly nonce: string;
  readonly state: PreviewState;
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

/** What the toolbar says, on hover, when the page runs in an opaque origin. */
const SANDBOX_NOTE =
  "This preview's address is VS Code's own origin, so the agent's page runs sandboxed in an opaque origin, out of VS Code's reach: " +
  'its cookies and storage do not persist, and pages that call their own server from scripts may not work. ' +
  "For a full preview, set gitiso.preview.address to 'forwarded' when the browser runs on this machine, or start code-server with a proxy domain.";

/** The panel's page: a toolbar over a full-size iframe of the forward, under a strict CSP; or, with no forward, a way to forward again. */
export function previewHtml(input: PreviewHtmlInput): string {
  const { webview, scriptUri, styleUri, target, nonce, state } = input;
  const head = (frameSrc: string): string => `<head>
<meta charset="UTF-8">
${cspMeta({ webview, nonce, extraDirectives: [`frame-src ${frameSrc}`] })}
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styleTag(styleUri)}
<title>${escapeAttr(`${state.agentId} :${state.containerPort}`)}</title>
</head>`;
  if (!target) {
    return `<!DOCTYPE html>
<html lang="en">
${head("'none'")}
<body data-view="gone" data-state="${escapeAttr(JSON.stringify(state))}">
<div class="gone" role="status">
<p>Port ${state.containerPort} of agent ${escapeAttr(state.agentId)} is not forwarded any more, so this preview shows nothing rather than whatever answers at its old address.</p>
<button type="button" id="forward-again" class="action">Forward Again</button>
</div>
${scriptTag(scriptUri, nonce)}
</body>
</html>`;
  }
  const frameTitle = `Preview of agent ${state.agentId}, port ${state.containerPort}`;
  // No src: the script sets it once it has checked the origin against the embedding ones.
  // Never allow-top-navigation (the page must not replace the webview) nor allow-popups.
  const sandbox = `allow-scripts allow-forms allow-modals allow-downloads${target.ownOrigin ? ' allow-same-origin' : ''}`;
  return `<!DOCTYPE html>
<html lang="en">
${head(frameSource(target))}
<body data-view="frame" data-state="${escapeAttr(JSON.stringify(state))}" data-base-url="${escapeAttr(target.baseUrl)}" data-origin="${escapeAttr(target.origin)}" data-own-origin="${target.ownOrigin}">
<div class="toolbar" role="toolbar" aria-label="Preview navigation">
${button('back', 'Back', 'back', 'Alt+Left')}
${button('forward', 'Forward', 'forward', 'Alt+Right')}
${button('reload', 'Reload', 'reload')}
<input id="path" class="path" type="text" spellcheck="false" autocomplete="off" aria-label="Path (press Enter to go)" title="Path (press Enter to go)" value="${escapeAttr(state.path)}">
<span id="isolation" class="notice" role="note" title="${escapeAttr(SANDBOX_NOTE)}" hidden>Sandboxed: cookies and storage do not persist</span>
${button('open', 'Open in Browser', 'external')}
</div>
<iframe id="frame" class="frame" title="${escapeAttr(frameTitle)}" sandbox="${sandbox}" allow="clipboard-read; clipboard-write"></iframe>
${scriptTag(scriptUri, nonce)}
</body>
</html>`;
}
