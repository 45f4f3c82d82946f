import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AgentService } from '../agentService';
import type { CodingAgentApi } from '../codingAgents/codingAgentPreset';
import type { ApiAccess } from '../codingAgents/taskRunner';
import { ConnectionMux } from '../docker/connectionMux';
import { containerAddress } from '../docker/containerAddress';
import type { Engine } from '../docker/engine';
import { openExecStream, type ExecStreamEngine } from '../docker/execStream';
import { muxArgv } from '../docker/muxPrograms';
import { GitisoError, describeCause } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { containerNameFor } from '../names';
import type { AgentNetwork } from '../network/agentNetwork';
import type { KeptToken } from './agentTokens';
import { ApiProxy } from './apiProxy';
import { agentBaseUrl, proxyPlacement, type ProxyPlacement } from './proxyPlacement';
import type { Upstream } from './upstream';
import { UsageKeeper } from './usageKeeper';
import type { UsageStore } from './usageStore';

/** The proxy's port when none is set: agents' sessions name it, so it stays the same between runs. */
export const DEFAULT_PROXY_PORT = 41_597;

/** The token table's file in gitiso's storage, shared by the windows and the CLI. */
export const API_TOKENS_FILE = 'api-tokens.json';

/** What the access needs of an engine: where its agents reach this machine, and execs for their relays. */
export type ApiAccessEngine = Pick<Engine, 'operatingSystem' | 'address' | 'inspectContainer'> & ExecStreamEngine;

export interface AgentApiAccessOptions {
  /** The engine the proxy listens for, where its agents can reach this machine (proxyPlacement.ts). */
  readonly engine: ApiAccessEngine;
  readonly network: Pick<AgentNetwork, 'gateway'>;
  /** The engine of each agent, when agents may be on others: those get a relay each (a listening ConnectionMux in their container). */
  readonly engineOf?: (agentId: string) => ExecStreamEngine;
  /** The real key of an API, by the variable its tool reads it from (`ANTHROPIC_API_KEY`): the front end keeps keys. */
  readonly keyFor: (api: CodingAgentApi) => string | undefined | Promise<string | undefined>;
  /** The APIs agents may be granted (the presets' `api`). */
  readonly apis: readonly CodingAgentApi[];
  /** The proxy's port, on this machine and, for relayed agents, on 127.0.0.1 in their containers. */
  readonly port?: number;
  /**
   * Where the token table is kept between runs (digests only, readable by the user alone): a session outlives a
   * window's reload, and its token must still work with the next window's proxy.
   */
  readonly tokensFile?: string;
  /**
   * Where each agent's usage is kept across processes (the core's `apiUsage`): the proxy's counts are added to it
   * a moment after they change and when it closes, so the CLI and the next window see them.
   */
  readonly usage?: UsageStore;
  /**
   * The agents that exist, on every engine (agentIdsOnEvery): a kept token (and kept usage) of one that went while
   * no proxy ran is dropped at start. Undefined when that cannot be told (an engine does not answer): nothing is dropped.
   */
  readonly agentIds?: () => Promise<readonly string[] | undefined>;
  /** Certificate authorities trusted besides Node's own (a company's, the tests'). */
  readonly ca?: string | readonly string[];
  readonly log?: Logger;
}

/**
 * The agents of every engine gitiso knows, for `agentIds`: one engine's alone
 * would take the others' agents, relayed ones included, for gone. Undefined
 * when an engine does not answer.
 */
export async function agentIdsOnEvery(cores: readonly { readonly agents: Pick<AgentService, 'list'> }[]): Promise<string[] | undefined> {
  const lists = await Promise.all(cores.map((core) => core.agents.list().catch(() => undefined)));
  return lists.some((list) => list === undefined) ? undefined : lists.flatMap((list) => (list ?? []).map((agent) => agent.id));
}

/** An API's name on the proxy: its host and path as one path segment (`api-anthropic-com`). */
export function upstreamName(api: CodingAgentApi): string {
  const url = new URL(api.upstream);
  return `${url.host}${url.pathname}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
}

/** The proxy's upstream for an API: the agent's tool sends its token where it would send the key. */
export function upstreamOf(api: CodingAgentApi): Upstream {
  const bearer = api.keyHeader === 'authorization';
  return { name: upstreamName(api), baseUrl: api.upstream, keyHeader: api.keyHeader, ...(bearer ? { keyFormat: 'Bearer {key}' } : {}), tokenHeader: api.keyHeader };
}

/**
 * What lets a coding agent call its API with no key in its agent: the host's
 * proxy, started on first use where agents reach it (proxyPlacement.ts) on a
 * fixed port (or, for an agent that cannot reach this machine, a relay in its
 * container: a listening ConnectionMux), a token per agent bound to its address where the
 * engine shows one (or to its relay), and the two variables its tool reads: the proxy's base URL and that
 * token. The tokens' digests are kept in `tokensFile`, so the sessions of a
 * window that reloads keep working with the next one's proxy; what each
 * agent used is added to the `usage` store; `revoke` ends an agent's token
 * and its kept usage.
 */
export class AgentApiAccess implements ApiAccess {
  private started: Promise<{ readonly proxy: ApiProxy; readonly keeper?: UsageKeeper }> | undefined;
  private listened: Promise<{ readonly placement: ProxyPlacement; readonly port: number } | undefined> | undefined;
  /** The relays of agents the proxy cannot listen for (a listening mux in each), by agent id. */
  private readonly relays = new Map<string, ConnectionMux>();
  private readonly log: Logger;

  constructor(private readonly options: AgentApiAccessOptions) {
    this.log = options.log ?? silentLogger;
  }

  async envFor(agentId: string, api: CodingAgentApi): Promise<Record<string, string>> {
    if (!(await this.options.keyFor(api))) {
      throw new GitisoError(`there is no key for ${api.upstream}: set ${api.keyEnv} (VS Code: gitiso: Set API Key…; the CLI reads it from its environment)`);
    }
    const upstream = upstreamOf(api);
    const { proxy, keeper } = await this.start();
    const { placement, port } = await this.serve(agentId);
    const token = proxy.grant(agentId, { upstreams: [upstream.name], relayed: placement.kind === 'relay' });
    keeper?.granted(agentId);
    const address = placement.kind === 'listen' && placement.listenHost !== '127.0.0.1' ? await this.addressOf(agentId) : undefined;
    if (address) {
      proxy.bindAddress(agentId, address);
    }
    this.keep(proxy);
    return { [api.baseUrlEnv]: agentBaseUrl(placement, port, upstream.name), [api.keyEnv]: token };
  }

  /**
   * Serves again the agents whose sessions outlived the process that gave
   * them their tokens (a reloaded window, an ended CLI task): each one with a
   * kept token gets the proxy listening, or its relay, as at its grant.
   * Returns those served; another process serving one already is no error.
   */
  async resume(agentIds: readonly string[]): Promise<string[]> {
    const { proxy } = await this.start();
    const served: string[] = [];
    for (const agentId of agentIds.filter((id) => proxy.holdsToken(id))) {
      try {
        await this.serve(agentId);
        served.push(agentId);
      } catch (error) {
        this.log.info(`API proxy: not serving ${agentId} from here (${describeCause(error)})`);
      }
    }
    return served;
  }

  /**
   * Makes the proxy reachable for the agent: listening where its engine's
   * agents reach this machine, or a relay in its container (an agent of
   * another engine, or of an engine on another machine).
   */
  private async serve(agentId: string): Promise<{ readonly placement: ProxyPlacement; readonly port: number }> {
    const engine = this.options.engineOf?.(agentId) ?? this.options.engine;
    const listening = engine === this.options.engine ? await this.listening() : undefined;
    if (listening) {
      return listening;
    }
    await this.relayFor(agentId, engine);
    return { placement: { kind: 'relay' }, port: this.relayPort };
  }

  private get port(): number {
    return this.options.port ?? DEFAULT_PROXY_PORT;
  }

  /** The relay's port in the agent: the proxy's own, unless that is "any free one" (0), which an agent's tool cannot be told ahead. */
  private get relayPort(): number {
    return this.options.port || DEFAULT_PROXY_PORT;
  }

  /** The agent's relay, started when it has none running; settles when the agent can connect. */
  private async relayFor(agentId: string, engine: ExecStreamEngine): Promise<void> {
    const { proxy } = await this.start();
    const running = this.relays.get(agentId);
    if (running?.open) {
      return running.ready;
    }
    const relay = new ConnectionMux({
      name: `the API relay in ${agentId}`,
      stream: openExecStream(engine, { containerId: containerNameFor(agentId), argv: muxArgv('listen', this.relayPort), halfClose: false }),
      accept: (connection) => proxy.acceptRelayed(agentId, connection),
      missingProgram: `${agentId} has neither python3 nor node, one of which gitiso needs in the agent to reach the API key proxy on this machine: install one in the agent's image (the gitiso.image setting), or run the task on the local engine`,
      onEnd: () => {
        if (this.relays.get(agentId) === relay) {
          this.relays.delete(agentId);
        }
      },
      log: this.log,
    });
    this.relays.set(agentId, relay);
    await relay.ready;
    this.log.info(`API proxy: ${agentId} reaches it through a relay in its container (127.0.0.1:${this.relayPort} there)`);
  }

  /** The agent's token stops working, and its kept usage goes (it was removed). */
  revoke(agentId: string): void {
    if (!this.started) {
      void this.options.usage?.forget([agentId]).catch((error: unknown) => this.log.warn(`API usage: ${describeCause(error)}`));
      return;
    }
    this.relays.get(agentId)?.close();
    void this.started
      .then(({ proxy, keeper }) => {
        proxy.revoke(agentId);
        this.keep(proxy);
        return keeper?.forget(agentId);
      })
      .catch(() => undefined);
  }

  /** Requests, bytes and tokens each agent's coding agent used through the proxy. */
  async usage(): Promise<ReadonlyMap<string, ReturnType<ApiProxy['usage']>>> {
    return this.started ? (await this.started).proxy.allUsage() : new Map();
  }

  /** Stops the proxy, once what its agents used is kept. */
  async close(): Promise<void> {
    const started = this.started;
    this.started = undefined;
    this.listened = undefined;
    for (const relay of this.relays.values()) {
      relay.close();
    }
    this.relays.clear();
    await started
      ?.then(async ({ proxy, keeper }) => {
        await proxy.close();
        await keeper?.close();
      })
      .catch(() => undefined);
  }

  private start(): Promise<{ readonly proxy: ApiProxy; readonly keeper?: UsageKeeper }> {
    this.started ??= (async () => {
      const upstreams = new Map<string, Upstream>();
      for (const api of this.options.apis) {
        const upstream = upstreamOf(api);
        upstreams.set(upstream.name, upstream);
      }
      const byName = new Map(this.options.apis.map((api) => [upstreamName(api), api]));
      const store = this.options.usage;
      // The proxy tells the keeper of each count; the keeper reads the proxy's totals (made just below).
      const proxy = new ApiProxy({ upstreams: [...upstreams.values()], keyFor: (name) => this.keyOf(byName.get(name)), ca: this.options.ca, onUsage: () => keeper?.changed(), log: this.log });
      const keeper = store && new UsageKeeper(store, () => proxy.allUsage(), { log: this.log });
      const kept = this.keptTokens();
      const existing = this.options.agentIds && (kept.length > 0 || store) ? await this.options.agentIds() : undefined;
      const present = existing && new Set(existing);
      proxy.restoreTokens(present ? kept.filter((token) => present.has(token.agentId)) : kept);
      if (present && store) {
        await store.keepOnly(present).catch((error: unknown) => this.log.warn(`API usage: ${describeCause(error)}`));
      }
      return { proxy, keeper };
    })();
    this.started.catch(() => (this.started = undefined));
    return this.started;
  }

  /** The proxy listening where the engine's agents reach this machine; undefined where they cannot (they are relayed). */
  private listening(): Promise<{ readonly placement: ProxyPlacement; readonly port: number } | undefined> {
    this.listened ??= (async () => {
      const { engine, network } = this.options;
      const placement = proxyPlacement({ hostPlatform: process.platform, engineOperatingSystem: await engine.operatingSystem(), engineAddress: engine.address, gateway: await network.gateway() });
      if (placement.kind === 'relay') {
        return undefined;
      }
      const { proxy } = await this.start();
      try {
        const port = await proxy.listen(placement.listenHost, this.port);
        this.log.info(`API proxy: listening on ${placement.listenHost}:${port} for agents`);
        return { placement, port };
      } catch (error) {
        throw new GitisoError(`the API key proxy cannot listen on ${placement.listenHost}:${this.port} (${describeCause(error)}): choose another port in the gitiso.apiProxy.port setting, or close the other gitiso window that serves it`);
      }
    })();
    this.listened.catch(() => (this.listened = undefined));
    return this.listened;
  }

  /** The kept table; a file that is not one (or not there) keeps nothing. */
  private keptTokens(): KeptToken[] {
    if (!this.options.tokensFile) {
      return [];
    }
    try {
      const kept: unknown = JSON.parse(readFileSync(this.options.tokensFile, 'utf8'));
      return Array.isArray(kept) ? kept.filter((entry): entry is KeptToken => typeof entry?.agentId === 'string' && typeof entry?.sha256 === 'string' && Array.isArray(entry?.upstreams)) : [];
    } catch {
      return [];
    }
  }

  private keep(proxy: ApiProxy): void {
    const file = this.options.tokensFile;
    if (!file) {
      return;
    }
    try {
      mkdirSync(dirname(file), { recursive: true });
      const aside = `${file}.${process.pid}.tmp`;
      writeFileSync(aside, JSON.stringify(proxy.keptTokens()), { mode: 0o600 });
      renameSync(aside, file);
    } catch (error) {
      this.log.warn(`API proxy: cannot keep the agents' tokens in ${file}: ${describeCause(error)}`);
    }
  }

  private async keyOf(api: CodingAgentApi | undefined): Promise<string | undefined> {
    return api ? this.options.keyFor(api) : undefined;
  }

  private async addressOf(agentId: string): Promise<string | undefined> {
    return containerAddress(await this.options.engine.inspectContainer(containerNameFor(agentId)));
  }
}
