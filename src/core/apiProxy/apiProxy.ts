import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent } from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { describeCause, InvalidInputError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { AgentTokens, presentedToken, type KeptToken, type TokenGrant } from './agentTokens';
import { AgentUsageCounts, type AgentUsage } from './agentUsage';
import { headerRefusal, upstreamHeaders } from './headerRewrite';
import { forward } from './proxiedExchange';
import { proxyTarget } from './proxyTarget';
import { refuse } from './refusal';
import { checkUpstream, type Upstream } from './upstream';

export interface ApiProxyOptions {
  readonly upstreams: readonly Upstream[];
  /**
   * The real key for an upstream, asked on each request (the front end keeps
   * keys: VS Code's SecretStorage, the CLI's environment or a file only the
   * user reads). Undefined when none is set.
   */
  readonly keyFor: (upstream: string) => string | undefined | Promise<string | undefined>;
  /** Certificate authorities (PEM) trusted besides Node's own, such as a company's. Certificates are always checked. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** The largest request body forwarded; default 32 MiB (a prompt with images). */
  readonly maxRequestBytes?: number;
  /** Told when an agent's counts change (its usage is kept from there: usageKeeper.ts). */
  readonly onUsage?: () => void;
  readonly log?: Logger;
}

const DEFAULT_MAX_REQUEST = 32 * 1024 * 1024;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** A key that would break its header line (or smuggle another) is never sent. */
const HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * The host's proxy for agents' API calls. An agent holds only a per-agent
 * token; the proxy checks it, swaps it for the upstream's real key, and
 * streams the exchange, counting requests, bytes and tokens per agent. It
 * never logs a key or a token.
 */
export class ApiProxy {
  private readonly upstreams: ReadonlyMap<string, Upstream>;
  /** The headers tokens come in (each must come once). */
  private readonly tokenHeaders: ReadonlySet<string>;
  private readonly tokens = new AgentTokens();
  private readonly counts: AgentUsageCounts;
  private readonly tls: Agent;
  private readonly server: Server;
  /** The connections that came through an agent's relay (a listening ConnectionMux), and whose. */
  private readonly relayedFrom = new WeakMap<object, string>();
  private readonly log: Logger;

  constructor(private readonly options: ApiProxyOptions) {
    this.upstreams = new Map(options.upstreams.map((upstream) => [upstream.name, checkUpstream(upstream)]));
    this.counts = new AgentUsageCounts(options.onUsage);
    this.tokenHeaders = new Set([...this.upstreams.values()].map((upstream) => upstream.tokenHeader));
    const extra = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
    // One secure context for every connection: parsing the roots is the slow part of a TLS connect.
    const secureContext = createSecureContext({ ca: [...rootCertificates, ...(extra as Array<string | Buffer>)] });
    this.tls = new Agent({ keepAlive: true, secureContext, rejectUnauthorized: true });
    this.log = options.log ?? silentLogger;
    this.server = createServer({ noDelay: true }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.log.error(`API proxy: a request failed: ${describeCause(error)}`);
        refuse(res, 502, 'the proxy failed to forward the request');
      });
    });
    this.server.headersTimeout = 30_000;
  }

  /** Starts listening (port 0: any free port); returns the port. */
  async listen(host: string, port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Serves a connection that came through the agent's own relay: only that agent's token works on it. */
  acceptRelayed(agentId: string, connection: Duplex): void {
    this.relayedFrom.set(connection, agentId);
    this.server.emit('connection', connection);
  }

  /** A new token for the agent (any earlier one stops working); give it to the agent as its API key. */
  grant(agentId: string, grant: TokenGrant): string {
    for (const name of grant.upstreams) {
      if (!this.upstreams.has(name)) {
        throw new InvalidInputError(`no API upstream named '${name}' to grant agent '${agentId}': name one of ${[...this.upstreams.keys()].join(', ') || '(none configured)'}`);
      }
    }
    return this.tokens.issue(agentId, grant);
  }

  /** Ties the agent's token to its container's address on the agents' network (after each start: it may change). */
  bindAddress(agentId: string, address: string): void {
    this.tokens.bind(agentId, address);
  }

  /** Whether the agent has a token here (granted, or kept from an earlier process). */
  holdsToken(agentId: string): boolean {
    return this.tokens.holds(agentId);
  }

  /** Ends the agent's token (when the agent goes): its requests are refused from now on, and its counts go. */
  revoke(agentId: string): void {
    this.tokens.revoke(agentId);
    this.counts.forget(agentId);
  }

  /** The tokens as they may be kept between runs: digests only. */
  keptTokens(): KeptToken[] {
    return this.tokens.kept();
  }

  restoreTokens(kept: readonly KeptToken[]): void {
    this.tokens.restore(kept);
  }

  usage(agentId: string): AgentUsage {
    return this.counts.of(agentId);
  }

  allUsage(): ReadonlyMap<string, AgentUsage> {
    return this.counts.all();
  }

  /** Stops listening and cuts every open exchange. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.tls.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!METHODS.has(req.method ?? '')) {
      return refuse(res, 405, `method ${req.method} is not forwarded`);
    }
    const headerProblem = headerRefusal(req.rawHeaders, this.tokenHeaders);
    if (headerProblem) {
      return refuse(res, 400, headerProblem);
    }
    const target = proxyTarget(req.url ?? '', this.upstreams);
    if (target.kind === 'refused') {
      return refuse(res, target.status, target.reason);
    }
    const { upstream, url } = target;
    const token = presentedToken(req.headers[upstream.tokenHeader], upstream.tokenHeader);
    const holder = token === undefined ? undefined : this.tokens.holderOf(token);
    const relayedFrom = this.relayedFrom.get(req.socket);
    const from = relayedFrom === undefined ? (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '') : `the relay of ${relayedFrom}`;
    if (!holder) {
      this.log.warn(`API proxy: refused a request to '${upstream.name}' from ${from} with ${token === undefined ? 'no token' : 'an unknown or revoked token'}`);
      return refuse(res, 401, `no valid agent token in the ${upstream.tokenHeader} header`);
    }
    const elsewhere = relayedFrom === undefined ? holder.relayed === true || (holder.address !== undefined && holder.address !== from) : holder.agentId !== relayedFrom;
    if (elsewhere) {
      this.log.warn(`API proxy: agent ${holder.agentId}'s token came from ${from}, not from the agent: refused`);
      return refuse(res, 403, 'this token belongs to another agent');
    }
    if (!holder.upstreams.includes(upstream.name)) {
      this.counts.refused(holder.agentId);
      return refuse(res, 403, `this agent may not use '${upstream.name}'`);
    }
    const length = Number(req.headers['content-length'] ?? 0);
    const max = this.options.maxRequestBytes ?? DEFAULT_MAX_REQUEST;
    if (!Number.isFinite(length) || length > max) {
      this.counts.refused(holder.agentId);
      return refuse(res, 413, `request bodies are limited to ${max} bytes`);
    }
    let key: string | undefined;
    try {
      key = await this.options.keyFor(upstream.name);
    } catch (error) {
      this.log.warn(`API proxy: the key for '${upstream.name}' could not be read: ${describeCause(error)}`);
    }
    if (!key || !HEADER_VALUE.test(key)) {
      return refuse(res, 502, `no usable key is set for '${upstream.name}' on the host: set it in gitiso`);
    }
    this.counts.request(holder.agentId);
    forward({ req, res, agentId: holder.agentId, url, headers: upstreamHeaders(req.headers, upstream, key), tls: this.tls, counts: this.counts, maxRequestBytes: max, log: this.log });
  }
}
