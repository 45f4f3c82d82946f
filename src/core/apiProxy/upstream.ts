import { InvalidInputError } from '../errors';

/**
 * Where an agent's tool puts its per-agent token: as its API key, in the
 * header that tool sends (`authorization` as a Bearer, any other, such as
 * `x-api-key` or `x-goog-api-key`, as the bare token).
 */
export type TokenHeader = string;

/**
 * An API the proxy forwards to: agents reach it at `/<name>/…` on the proxy,
 * which sends the request to `<baseUrl>/…` with the real key in `keyHeader`.
 */
export interface Upstream {
  /** One path segment: lower-case letters, digits and dashes. */
  readonly name: string;
  /** https only: the key must never cross a network in clear. Its path is the only part agents may reach. */
  readonly baseUrl: string;
  /** The header that carries the real key upstream, such as `x-api-key` or `authorization`. */
  readonly keyHeader: string;
  /** How the key is written in that header; `{key}` stands for it (`Bearer {key}`). Default `{key}`. */
  readonly keyFormat?: string;
  /** Where the agent's tool sends its token (`Authorization: Bearer …` or `x-api-key: …`). */
  readonly tokenHeader: TokenHeader;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const HEADER_NAME = /^[a-z0-9-]{1,64}$/;

/** Checks an upstream's definition; InvalidInputError names what is wrong. */
export function checkUpstream(upstream: Upstream): Upstream {
  if (!NAME.test(upstream.name)) {
    throw new InvalidInputError(`API upstream name '${upstream.name}' is not one path segment: use lower-case letters, digits and dashes (at most 32)`);
  }
  let url: URL;
  try {
    url = new URL(upstream.baseUrl);
  } catch {
    throw new InvalidInputError(`API upstream '${upstream.name}': base URL is not a URL: write it as https://host/path`);
  }
  if (url.protocol !== 'https:') {
    throw new InvalidInputError(`API upstream '${upstream.name}': base URL must be https (the key would cross the network in clear)`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new InvalidInputError(`API upstream '${upstream.name}': base URL must have no login, query or fragment (keys belong in the key store)`);
  }
  const keyHeader = upstream.keyHeader.toLowerCase();
  if (!HEADER_NAME.test(keyHeader) || keyHeader === 'host' || HOP_BY_HOP.has(keyHeader)) {
    throw new InvalidInputError(`API upstream '${upstream.name}': '${upstream.keyHeader}' cannot carry a key: name a header such as x-api-key or authorization`);
  }
  if (upstream.keyFormat !== undefined && !upstream.keyFormat.includes('{key}')) {
    throw new InvalidInputError(`API upstream '${upstream.name}': key format '${upstream.keyFormat}' has no {key}`);
  }
  const tokenHeader = upstream.tokenHeader.toLowerCase();
  if (!HEADER_NAME.test(tokenHeader) || tokenHeader === 'host' || HOP_BY_HOP.has(tokenHeader) || tokenHeader === 'cookie') {
    throw new InvalidInputError(`API upstream '${upstream.name}': the agent's token cannot come in '${upstream.tokenHeader}': name the header its tool sends its key in, such as authorization or x-api-key`);
  }
  return { ...upstream, keyHeader, tokenHeader };
}

/** Headers that belong to one connection, never forwarded (RFC 9110 7.6.1, and the proxy ones). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings',
]);
