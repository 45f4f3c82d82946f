/**
 * What the preview panel (src/vscode/preview) and its webview (src/webview/preview.ts)
 * say to each other, and the state the webview persists. Both sides import this
 * file, so it imports neither `vscode` nor Node: it runs in the browser bundle
 * and in unit tests under plain Node.
 */

import { isRecord } from './isRecord';

/** From the webview to the extension. */
export type FromWebview =
  | { readonly type: 'ready' }
  | { readonly type: 'navigated'; readonly path: string }
  | { readonly type: 'openExternal' }
  /** The button of a preview whose forward is gone. */
  | { readonly type: 'forwardAgain' };

/** From the extension to the webview. */
export type ToWebview =
  | { readonly type: 'reload' }
  | { readonly type: 'navigate'; readonly path: string };

/** Persisted by the webview with `setState`, handed back to the serializer after a restart. */
export interface PreviewState {
  readonly agentId: string;
  readonly containerPort: number;
  readonly path: string;
}

const MAX_PATH = 4096;

/** A path of the dev server: starts with '/', no control characters, not absurdly long. */
export function isPreviewPath(value: unknown): value is string {
  // The leading '/' keeps base + path on the forward's origin: no way to add an authority.
  return typeof value === 'string' && value.startsWith('/') && value.length <= MAX_PATH && !hasControlCharacter(value);
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) {
      return true;
    }
  }
  return false;
}

/** What a user typed, as a path: trimmed, with a leading '/'. Undefined when it cannot be one. */
export function normalizePath(input: string | undefined): string | undefined {
  const trimmed = (input ?? '').trim();
  const path = trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  return isPreviewPath(path) ? path : undefined;
}

/** The forward's base URL (it may carry a path, as behind a proxy) joined with a path. */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

/** The message, when it is one the webview may send; anything else is ignored by the caller. */
export function parseFromWebview(value: unknown): FromWebview | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  switch (value.type) {
    case 'ready':
      return { type: 'ready' };
    case 'openExternal':
      return { type: 'openExternal' };
    case 'forwardAgain':
      return { type: 'forwardAgain' };
    case 'navigated':
      return isPreviewPath(value.path) ? { type: 'navigated', path: value.path } : undefined;
    default:
      return undefined;
  }
}

/**
 * The message, when it is one the extension may send. A `navigate` path is only
 * checked to be a string: the webview normalizes it as it does a typed one.
 */
export function parseToWebview(value: unknown): ToWebview | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  switch (value.type) {
    case 'reload':
      return { type: 'reload' };
    case 'navigate':
      return typeof value.path === 'string' ? { type: 'navigate', path: value.path } : undefined;
    default:
      return undefined;
  }
}

/** The persisted state, when it is whole; a restore from anything else is abandoned. */
export function parsePreviewState(value: unknown): PreviewState | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  const { agentId, containerPort, path } = value;
  if (typeof agentId !== 'string' || agentId === '' || !isPort(containerPort)) {
    return undefined;
  }
  return { agentId, containerPort, path: isPreviewPath(path) ? path : '/' };
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536;
}
