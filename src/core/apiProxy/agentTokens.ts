import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What an agent may do with its token. */
export interface TokenGrant {
  /** The upstreams (by name) the agent may call. */
  readonly upstreams: readonly string[];
  /**
   * The agent's address as the proxy sees it, where the engine shows it (a
   * Linux bridge): a token then works only from there. Absent where every
   * agent arrives from one address (Docker Desktop's VM).
   */
  readonly address?: string;
  /**
   * The token works only on connections through its agent's own relay
   * (a listening ConnectionMux in its container), for an agent whose engine the proxy cannot listen for.
   */
  readonly relayed?: boolean;
}

/** Who a token belongs to. */
export interface TokenHolder extends TokenGrant {
  readonly agentId: string;
}

/** A token as it is kept: its SHA-256, never the token (a leaked copy of the table gives no token). */
export interface KeptToken extends TokenHolder {
  readonly sha256: string;
}

const PREFIX = 'gitiso-';
/** 256 random bits, base64url. */
const TOKEN = /^gitiso-[A-Za-z0-9_-]{43}$/;

/**
 * The per-agent tokens: random, worthless outside this proxy, one per agent
 * (a new one replaces the old), gone when the agent is revoked. Lookups
 * compare against every entry in constant time, so timing tells nothing of a
 * token.
 */
export class AgentTokens {
  private readonly entries = new Map<string, { readonly digest: Buffer; readonly holder: TokenHolder }>();

  /** A new token for the agent; any earlier one stops working. */
  issue(agentId: string, grant: TokenGrant): string {
    const token = PREFIX + randomBytes(32).toString('base64url');
    this.entries.set(agentId, { digest: digestOf(token), holder: holderOf(agentId, grant) });
    return token;
  }

  /**
   * Ties the agent's token to the address it comes from (known once its
   * container runs, and new after each start); false when it has no token.
   */
  bind(agentId: string, address: string): boolean {
    const entry = this.entries.get(agentId);
    if (!entry) {
      return false;
    }
    this.entries.set(agentId, { digest: entry.digest, holder: holderOf(agentId, { ...entry.holder, address }) });
    return true;
  }

  holds(agentId: string): boolean {
    return this.entries.has(agentId);
  }

  /** Ends the agent's token; false when it had none. */
  revoke(agentId: string): boolean {
    return this.entries.delete(agentId);
  }

  /** The holder of a token, or undefined for one that is malformed, unknown or revoked. */
  holderOf(token: string): TokenHolder | undefined {
    if (!TOKEN.test(token)) {
      return undefined;
    }
    const digest = digestOf(token);
    let found: TokenHolder | undefined;
    // Every entry is compared, with no early exit.
    for (const entry of this.entries.values()) {
      if (timingSafeEqual(entry.digest, digest)) {
        found = entry.holder;
      }
    }
    return found;
  }

  /** The table as it may be kept between runs (digests only). */
  kept(): KeptToken[] {
    return [...this.entries.values()].map(({ digest, holder }) => ({ ...holder, sha256: digest.toString('hex') }));
  }

  /** Takes back a kept table, for agents whose tokens outlive this process. */
  restore(kept: readonly KeptToken[]): void {
    for (const entry of kept) {
      if (/^[0-9a-f]{64}$/.test(entry.sha256)) {
        this.entries.set(entry.agentId, { digest: Buffer.from(entry.sha256, 'hex'), holder: holderOf(entry.agentId, entry) });
      }
    }
  }
}

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function holderOf(agentId: string, grant: TokenGrant): TokenHolder {
  return { agentId, upstreams: [...grant.upstreams], ...(grant.address ? { address: grant.address } : {}), ...(grant.relayed ? { relayed: true } : {}) };
}

/** The token an agent's tool sent in the header its upstream names; Bearer for authorization, the bare value in any other. */
export function presentedToken(value: string | string[] | undefined, header: string): string | undefined {
  if (typeof value !== 'string') {
    return undefined; // absent, or sent twice
  }
  if (header !== 'authorization') {
    return value.trim();
  }
  return /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1];
}
