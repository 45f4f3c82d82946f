import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { HOP_BY_HOP, type Upstream } from './upstream';

/**
 * Headers that must come once: a second Host, length or token is how a
 * request smuggles something past one reader and not the next.
 */
const SINGLE = new Set(['host', 'content-length', 'transfer-encoding', 'authorization', 'x-api-key']);

/** Headers never forwarded upstream besides the hop-by-hop ones: the agent's token, and what would name the agent's side. */
const DROPPED = new Set(['host', 'expect', 'authorization', 'x-api-key', 'cookie', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'accept-encoding']);

/**
 * Why the request's headers are refused, or undefined. `rawHeaders` as Node
 * gives them (name, value, name, value…); `tokenHeaders`, the headers the
 * proxy's upstreams take tokens from, must come once too.
 */
export function headerRefusal(rawHeaders: readonly string[], tokenHeaders: ReadonlySet<string> = new Set()): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    if (SINGLE.has(name) || tokenHeaders.has(name)) {
      if (seen.has(name)) {
        return `the ${name} header is sent more than once`;
      }
      seen.add(name);
    }
  }
  return undefined;
}

/**
 * The headers sent upstream: the agent's, less hop-by-hop headers (and any
 * the Connection header names), Host, and every header that could carry a
 * token or a key; plus the upstream's real key. Responses come back
 * uncompressed (`accept-encoding: identity`) so the proxy can read the usage.
 */
export function upstreamHeaders(incoming: IncomingHttpHeaders, upstream: Upstream, key: string): OutgoingHttpHeaders {
  const named = connectionNamed(incoming.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || DROPPED.has(name) || named.has(name) || name === upstream.keyHeader || name === upstream.tokenHeader) {
      continue;
    }
    out[name] = value;
  }
  out['accept-encoding'] = 'identity';
  out[upstream.keyHeader] = (upstream.keyFormat ?? '{key}').replace('{key}', () => key);
  return out;
}

/** The headers sent back to the agent: the upstream's, less hop-by-hop ones. */
export function responseHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionNamed(incoming.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) {
      out[name] = value;
    }
  }
  return out;
}

function connectionNamed(connection: string | undefined): Set<string> {
  return new Set((connection ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));
}
