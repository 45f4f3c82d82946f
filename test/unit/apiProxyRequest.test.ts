import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headerRefusal, responseHeaders, upstreamHeaders } from '../../src/core/apiProxy/headerRewrite';
import { proxyTarget } from '../../src/core/apiProxy/proxyTarget';
import { checkUpstream, type Upstream } from '../../src/core/apiProxy/upstream';
import { InvalidInputError } from '../../src/core/errors';

const ANTHROPIC: Upstream = { name: 'anthropic', baseUrl: 'https://api.test/v1', keyHeader: 'x-api-key', tokenHeader: 'x-api-key' };
const OPENAI: Upstream = { name: 'openai', baseUrl: 'https://other.test:8443/', keyHeader: 'authorization', keyFormat: 'Bearer {key}', tokenHeader: 'authorization' };
const UPSTREAMS = new Map([ANTHROPIC, OPENAI].map((upstream) => [upstream.name, upstream]));

function urlOf(target: string): string {
  const result = proxyTarget(target, UPSTREAMS);
  return result.kind === 'upstream' ? result.url.href : `refused ${result.status}`;
}

describe('API proxy requests', () => {
  it('maps /<upstream>/<path>?<query> under the upstream\'s base', () => {
    assert.equal(urlOf('/anthropic/messages'), 'https://api.test/v1/messages');
    assert.equal(urlOf('/anthropic/messages/count_tokens?beta=true&x=%2F'), 'https://api.test/v1/messages/count_tokens?beta=true&x=%2F');
    assert.equal(urlOf('/anthropic'), 'https://api.test/v1');
    assert.equal(urlOf('/openai/v1/chat/completions'), 'https://other.test:8443/v1/chat/completions');
    assert.equal(urlOf('/anthropic/a%20b'), 'https://api.test/v1/a%20b');
  });

  it('refuses paths that leave the base, however they are written', () => {
    for (const target of [
      '/anthropic/../admin', '/anthropic/..', '/anthropic/./messages', '/anthropic/%2e%2e/admin', '/anthropic/%2E%2e/admin', '/anthropic/.%2e',
      '/anthropic/a%2f..%2f..%2fadmin', '/anthropic/a%5c..', '/anthropic/a\\..\\admin', '/anthropic/%zz', '/anthropic/a%00',
      '//evil.test/anthropic/messages', 'http://evil.test/anthropic/messages', 'evil.test:443', '*', '/anthropic/a#frag', '/anthropic/a b', '/anthropic/a\r\nX: y',
    ]) {
      assert.match(urlOf(target), /^refused 400$/, target);
    }
    assert.equal(urlOf('/nope/messages'), 'refused 404');
    assert.equal(urlOf('/'), 'refused 404');
    assert.equal(urlOf('/ANTHROPIC/messages'), 'refused 404');
  });

  it('refuses a second Host, length, or token header', () => {
    assert.equal(headerRefusal(['Host', 'a', 'Content-Type', 'x', 'Accept', 'y', 'accept', 'z']), undefined);
    for (const name of ['Host', 'Content-Length', 'Transfer-Encoding', 'Authorization', 'X-Api-Key']) {
      assert.match(headerRefusal(['Host', 'a', name, '1', name.toLowerCase(), '2'].slice(name === 'Host' ? 2 : 0)) ?? '', new RegExp(name.toLowerCase()), name);
    }
    // A tool's own key header (Gemini's) carries a token too: once only.
    assert.equal(headerRefusal(['X-Goog-Api-Key', 'gitiso-a']), undefined);
    assert.match(headerRefusal(['X-Goog-Api-Key', 'gitiso-a', 'x-goog-api-key', 'gitiso-b'], new Set(['x-goog-api-key'])) ?? '', /x-goog-api-key/);
  });

  it("takes the token from the tool's own key header and sends the real key in its place", () => {
    const gemini = checkUpstream({ name: 'gemini', baseUrl: 'https://gemini.test', keyHeader: 'X-Goog-Api-Key', tokenHeader: 'X-Goog-Api-Key' });
    assert.equal(gemini.tokenHeader, 'x-goog-api-key');
    assert.deepEqual(upstreamHeaders({ 'x-goog-api-key': 'gitiso-token', 'content-type': 'application/json' }, gemini, 'real'), { 'content-type': 'application/json', 'accept-encoding': 'identity', 'x-goog-api-key': 'real' });
    // A token header the key never goes in is dropped all the same.
    const apart = checkUpstream({ ...ANTHROPIC, tokenHeader: 'x-agent-token' });
    assert.deepEqual(upstreamHeaders({ 'x-agent-token': 'gitiso-token' }, apart, 'real'), { 'accept-encoding': 'identity', 'x-api-key': 'real' });
  });

  it('sends upstream the agent\'s headers less its token, hop-by-hop headers and Host, plus the real key', () => {
    const incoming = {
      host: 'gateway:1234', authorization: 'Bearer gitiso-token', 'x-api-key': 'gitiso-token', 'content-type': 'application/json',
      'anthropic-version': '2023-06-01', connection: 'keep-alive, X-Secret-Hop', 'x-secret-hop': 'dropped', 'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked', upgrade: 'h2c', te: 'trailers', 'proxy-authorization': 'Basic x', cookie: 'a=b',
      'x-forwarded-for': '1.2.3.4', forwarded: 'for=1.2.3.4', 'accept-encoding': 'gzip, br', expect: '100-continue',
    };
    assert.deepEqual(upstreamHeaders(incoming, checkUpstream(ANTHROPIC), 'sk-real'), {
      'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'accept-encoding': 'identity', 'x-api-key': 'sk-real',
    });
    const sent = upstreamHeaders(incoming, checkUpstream(OPENAI), 'sk-$&-$1');
    assert.equal(sent.authorization, 'Bearer sk-$&-$1');
    assert.equal(sent['x-api-key'], undefined);
    const custom = checkUpstream({ ...ANTHROPIC, keyHeader: 'X-Goog-Api-Key' });
    assert.deepEqual(upstreamHeaders({ 'x-goog-api-key': 'the agent\'s own', 'x-api-key': 'gitiso-token' }, custom, 'real'), { 'accept-encoding': 'identity', 'x-goog-api-key': 'real' });
  });

  it('sends back the upstream\'s headers less hop-by-hop ones', () => {
    assert.deepEqual(responseHeaders({ 'content-type': 'text/event-stream', connection: 'keep-alive, x-hop', 'x-hop': '1', 'transfer-encoding': 'chunked', 'request-id': 'r1' }), {
      'content-type': 'text/event-stream', 'request-id': 'r1',
    });
  });

  it('accepts only well-formed upstreams over https', () => {
    assert.equal(checkUpstream({ ...OPENAI, keyHeader: 'Authorization' }).keyHeader, 'authorization');
    for (const bad of [
      { ...ANTHROPIC, name: 'Bad Name' }, { ...ANTHROPIC, name: '../x' }, { ...ANTHROPIC, baseUrl: 'http://api.test/v1' },
      { ...ANTHROPIC, baseUrl: 'https://user:pw@api.test/' }, { ...ANTHROPIC, baseUrl: 'https://api.test/?key=1' }, { ...ANTHROPIC, baseUrl: 'not a url' },
      { ...ANTHROPIC, keyHeader: 'host' }, { ...ANTHROPIC, keyHeader: 'connection' }, { ...ANTHROPIC, keyHeader: 'x key' },
      { ...ANTHROPIC, keyFormat: 'Bearer' }, { ...ANTHROPIC, tokenHeader: 'cookie' }, { ...ANTHROPIC, tokenHeader: 'host' },
      { ...ANTHROPIC, tokenHeader: 'connection' }, { ...ANTHROPIC, tokenHeader: 'x token\r\nx-evil' },
    ]) {
      assert.throws(() => checkUpstream(bad), InvalidInputError, JSON.stringify(bad));
    }
  });
});
