/**
 * Where a preview's frame loads the agent's page from, and whether that page
 * may keep its origin (sandbox allow-same-origin). Every agent's page is
 * untrusted: it must never run in the workbench's origin, nor in another
 * agent's. Shared by the panel (src/vscode/preview), which decides from the
 * address, and its script (src/webview/preview.ts), which checks again
 * against the origins that really embed it. No `vscode`, no Node.
 */

/** The address a preview loads, as the panel decided it. */
export interface FrameTarget {
  /** The forward's base URL as the browser reaches it, without a trailing '/'. */
  readonly baseUrl: string;
  readonly origin: string;
  /**
   * The origin serves nothing but this forward: the forward's root is the
   * origin's root (the forwarded address itself, desktop VS Code's localhost
   * tunnels, code-server's proxy domain). A forward under a path of another
   * server (code-server's /proxy/PORT/) shares that server's origin: the page
   * then runs in an opaque origin instead.
   */
  readonly ownOrigin: boolean;
}

/** The target of an address, or undefined when it is not an http(s) URL a frame may load. */
export function frameTarget(address: string): FrameTarget | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    return undefined;
  }
  // A query or fragment would not survive joining paths to the base: refuse it rather than guess.
  if (url.search || url.hash) {
    return undefined;
  }
  const baseUrl = url.href.replace(/\/+$/, '');
  return { baseUrl, origin: url.origin, ownOrigin: url.pathname === '/' };
}

/**
 * The CSP source the panel's frame-src allows: the origin when it is the
 * forward's own, else only the forward's path on it (so the frame cannot be
 * sent to the rest of that server). 'none' for anything a policy could misread.
 */
export function frameSource(target: FrameTarget): string {
  const source = target.ownOrigin ? target.origin : `${target.baseUrl}/`;
  return /^https?:\/\/[A-Za-z0-9.\-[\]:]+(\/[A-Za-z0-9._~\-/%]*)?$/.test(source) ? source : "'none'";
}

/**
 * Whether the frame may keep its origin: only when the panel found it to be
 * the forward's own, and it is none of the origins that embed the preview
 * (the webview's and the workbench's, from `location.ancestorOrigins` where
 * the browser has it). Any doubt gives an opaque origin.
 */
export function mayKeepOrigin(target: Pick<FrameTarget, 'origin' | 'ownOrigin'>, embedding: readonly string[]): boolean {
  return target.ownOrigin && !embedding.some((origin) => sameOrigin(origin, target.origin));
}

function sameOrigin(a: string, b: string): boolean {
  return a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}
