import type { Upstream } from './upstream';

/** Where a request goes, or why it goes nowhere. */
export type ProxyTarget =
  | { readonly kind: 'upstream'; readonly upstream: Upstream; readonly url: URL }
  | { readonly kind: 'refused'; readonly status: 400 | 404; readonly reason: string };

const MAX_TARGET = 8192;

/**
 * The upstream URL for a request target `/<upstream>/<path>?<query>`. The
 * path stays under the upstream's base: dot segments (written plainly or
 * percent-encoded), encoded slashes and backslashes are refused rather than
 * resolved, as is any target that is not a plain path (absolute form,
 * authority form, `*`).
 */
export function proxyTarget(target: string, upstreams: ReadonlyMap<string, Upstream>): ProxyTarget {
  if (!target.startsWith('/') || target.startsWith('//') || target.length > MAX_TARGET) {
    return refused(400, 'the request target must be a path: /<upstream>/<path>');
  }
  const queryAt = target.indexOf('?');
  const path = queryAt < 0 ? target : target.slice(0, queryAt);
  const query = queryAt < 0 ? '' : target.slice(queryAt);
  if (path.includes('\\') || hasUnsafeCharacter(target)) {
    return refused(400, 'the request target has characters a path may not have');
  }
  const [, name = '', ...rest] = path.split('/');
  const upstream = upstreams.get(name);
  if (!upstream) {
    return refused(404, 'no such upstream on this proxy');
  }
  if (rest.some(isUnsafeSegment)) {
    return refused(400, 'the path leaves the upstream\'s base (dot segments and encoded slashes are refused)');
  }
  const base = new URL(upstream.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const url = new URL(base.origin);
  url.pathname = rest.length === 0 ? basePath || '/' : `${basePath}/${rest.join('/')}`;
  url.search = query;
  // What URL made of it must still be the base's origin, under the base's path.
  const underBase = basePath === '' || url.pathname === basePath || url.pathname.startsWith(`${basePath}/`);
  if (url.origin !== base.origin || !underBase) {
    return refused(400, 'the path leaves the upstream\'s base');
  }
  return { kind: 'upstream', upstream, url };
}

function isUnsafeSegment(segment: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return true; // malformed percent-encoding
  }
  return decoded === '.' || decoded === '..' || /[/\\]/.test(decoded) || decoded.includes('\0');
}

/** Controls, spaces and `#`: Node's parser refuses most; the proxy does not rely on it. */
function hasUnsafeCharacter(target: string): boolean {
  for (let i = 0; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === 0x23) {
      return true;
    }
  }
  return false;
}

function refused(status: 400 | 404, reason: string): ProxyTarget {
  return { kind: 'refused', status, reason };
}
