import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentTokens, presentedToken } from '../../src/core/apiProxy/agentTokens';

describe('API proxy tokens', () => {
  it('issues a 256-bit random token per agent that finds its holder', () => {
    const tokens = new AgentTokens();
    const a = tokens.issue('a', { upstreams: ['one'] });
    const b = tokens.issue('b', { upstreams: ['two'], address: '172.30.0.5' });
    assert.match(a, /^gitiso-[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
    assert.deepEqual(tokens.holderOf(a), { agentId: 'a', upstreams: ['one'] });
    assert.deepEqual(tokens.holderOf(b), { agentId: 'b', upstreams: ['two'], address: '172.30.0.5' });
  });

  it('refuses an unknown, malformed, altered or revoked token, and an agent\'s replaced one', () => {
    const tokens = new AgentTokens();
    const a = tokens.issue('a', { upstreams: ['one'] });
    assert.equal(tokens.holderOf(''), undefined);
    assert.equal(tokens.holderOf('gitiso-short'), undefined);
    assert.equal(tokens.holderOf(`${a.slice(0, -1)}${a.endsWith('A') ? 'B' : 'A'}`), undefined);
    assert.equal(tokens.holderOf(`${a} `), undefined);
    const replacement = tokens.issue('a', { upstreams: ['one'] });
    assert.equal(tokens.holderOf(a), undefined, 'the replaced token still works');
    assert.equal(tokens.holderOf(replacement)?.agentId, 'a');
    assert.equal(tokens.revoke('a'), true);
    assert.equal(tokens.holderOf(replacement), undefined, 'a revoked token still works');
    assert.equal(tokens.revoke('a'), false);
  });

  it('ties a token to an address after it was issued', () => {
    const tokens = new AgentTokens();
    const a = tokens.issue('a', { upstreams: ['one'] });
    assert.equal(tokens.bind('a', '172.30.0.9'), true);
    assert.deepEqual(tokens.holderOf(a), { agentId: 'a', upstreams: ['one'], address: '172.30.0.9' });
    assert.equal(tokens.bind('nobody', '172.30.0.9'), false);
  });

  it('keeps only digests, and a restored table finds the same holders', () => {
    const tokens = new AgentTokens();
    const a = tokens.issue('a', { upstreams: ['one'] });
    const kept = tokens.kept();
    assert.ok(!JSON.stringify(kept).includes(a.slice(7)), 'the kept table holds the token');
    assert.match(kept[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);
    const restored = new AgentTokens();
    restored.restore(kept);
    assert.equal(restored.holderOf(a)?.agentId, 'a');
    restored.restore([{ agentId: 'x', upstreams: ['one'], sha256: 'not-hex' }]);
    assert.equal(restored.kept().length, 1);
    // A relayed agent's token stays relay-only in the next window (and after its address is bound).
    const r = tokens.issue('r', { upstreams: ['one'], relayed: true });
    tokens.bind('r', '172.30.0.9');
    restored.restore(tokens.kept());
    assert.equal(restored.holderOf(r)?.relayed, true);
  });

  it('reads the token from the header its upstream names', () => {
    assert.equal(presentedToken('Bearer gitiso-abc', 'authorization'), 'gitiso-abc');
    assert.equal(presentedToken('bearer  gitiso-abc ', 'authorization'), 'gitiso-abc');
    assert.equal(presentedToken('Basic Zm9vOmJhcg==', 'authorization'), undefined);
    assert.equal(presentedToken('Bearer a b', 'authorization'), undefined);
    assert.equal(presentedToken('gitiso-abc', 'x-api-key'), 'gitiso-abc');
    assert.equal(presentedToken(undefined, 'x-api-key'), undefined);
    assert.equal(presentedToken(['a', 'b'], 'x-api-key'), undefined);
    assert.equal(presentedToken(' gitiso-abc ', 'x-goog-api-key'), 'gitiso-abc');
  });
});
