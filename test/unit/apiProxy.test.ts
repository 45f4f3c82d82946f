import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ApiProxy } from '../../src/core/apiProxy/apiProxy';
import { extraAuthorities } from '../../src/core/apiProxy/extraAuthorities';
import type { Logger } from '../../src/core/logger';
import { FakeLlmApi } from '../support/fakeLlmApi';
import { makeTestCertificates, type TestCertificates } from '../support/testCertificates';
import { makeTempDir, removeDir } from '../support/testEnv';

/** A request to the proxy from this process, as raw bytes: what a hostile client can send. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    socket.on('data', (chunk) => (answer += String(chunk)));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** The same, on a connection handed to the proxy as come through an agent's relay. */
function relayedExchange(proxy: ApiProxy, agentId: string, text: string): Promise<string> {
  const toProxy = new PassThrough();
  const fromProxy = new PassThrough();
  let answer = '';
  fromProxy.on('data', (chunk) => (answer += String(chunk)));
  const ended = new Promise<string>((resolve) => fromProxy.on('finish', () => resolve(answer)));
  proxy.acceptRelayed(agentId, Duplex.from({ readable: toProxy, writable: fromProxy }));
  toProxy.write(text);
  return ended;
}

describe('API proxy (in process, no engine)', () => {
  const KEY = `sk-unit-${randomBytes(16).toString('hex')}`;
  const logged: string[] = [];
  const log: Logger = { trace: () => undefined, debug: (m) => logged.push(m), info: (m) => logged.push(m), warn: (m) => logged.push(m), error: (m) => logged.push(String(m)) };
  let dir: string;
  let certificates: TestCertificates;
  let api: FakeLlmApi;
  let proxy: ApiProxy;
  let port: number;
  let token: string;
  let key: string | undefined = KEY;

  before(async () => {
    dir = makeTempDir('apiproxy-unit');
    certificates = makeTestCertificates(dir);
    api = await FakeLlmApi.start(KEY, certificates);
    proxy = new ApiProxy({
      upstreams: [{ name: 'anthropic', baseUrl: `${api.url}/anthropic/v1`, keyHeader: 'x-api-key', tokenHeader: 'x-api-key' }],
      keyFor: () => key,
      ca: certificates.ca,
      maxRequestBytes: 64 * 1024,
      log,
    });
    port = await proxy.listen('127.0.0.1');
    token = proxy.grant('a', { upstreams: ['anthropic'] });
  });

  after(async () => {
    await proxy?.close();
    await api?.stop();
    removeDir(dir);
    const all = logged.join('\n');
    assert.ok(!all.includes(KEY) && !all.includes(token.slice(7)), 'a key or token was logged');
  });

  function post(headers: Record<string, string>, body: string | Buffer[] = '{}'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/anthropic/messages', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += String(chunk)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? resolve({ status: 0, body: error.code }) : reject(error)));
      if (typeof body === 'string') {
        req.end(body);
        return;
      }
      for (const piece of body) {
        req.write(piece);
      }
      req.end();
    });
  }

  it('forwards with the real key, checked against the test authority', async () => {
    const answer = await post({ 'x-api-key': token }, JSON.stringify({ input: 3, output: 4 }));
    assert.equal(answer.status, 200, answer.body);
    assert.equal(api.seen.at(-1)?.keyed, true);
    assert.deepEqual([proxy.usage('a').inputTokens, proxy.usage('a').outputTokens], [3, 4]);
  });

  /** The status a request gets from a second proxy (its own authorities) in front of the same API. */
  async function statusThrough(ca: string[] | undefined): Promise<number> {
    const other = new ApiProxy({ upstreams: [{ name: 'anthropic', baseUrl: `${api.url}/anthropic/v1`, keyHeader: 'x-api-key', tokenHeader: 'x-api-key' }], keyFor: () => KEY, ca });
    const otherPort = await other.listen('127.0.0.1');
    const otherToken = other.grant('a', { upstreams: ['anthropic'] });
    try {
      return await new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port: otherPort, method: 'POST', path: '/anthropic/messages', headers: { 'x-api-key': otherToken } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject).end('{}');
      });
    } finally {
      await other.close();
    }
  }

  it('trusts no certificate it was not told of', async () => {
    const seen = api.seen.length;
    assert.equal(await statusThrough(undefined), 502);
    assert.equal(api.seen.length, seen, 'the key went to a server whose certificate was not checked');
  });

  it('trusts an authority the environment names (NODE_EXTRA_CA_CERTS, GITISO_API_CA), and says which variable names a file it cannot read', async () => {
    assert.equal(await statusThrough(extraAuthorities({ NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') })), 200);
    assert.throws(() => extraAuthorities({ GITISO_API_CA: join(dir, 'missing.pem') }), /GITISO_API_CA names .*missing\.pem, which cannot be read \(ENOENT\)/);
    assert.deepEqual(extraAuthorities({}), []);
  });

  it('refuses a chunked body over the bound as it grows, without forwarding it whole', async () => {
    const pieces = Array.from({ length: 20 }, () => Buffer.alloc(8 * 1024, 0x20));
    const answer = await post({ 'x-api-key': token, 'transfer-encoding': 'chunked' }, pieces);
    assert.equal(answer.status, 413, answer.body);
    assert.ok(proxy.usage('a').bytesIn <= 64 * 1024 + 8 * 1024, `${proxy.usage('a').bytesIn} bytes went upstream`);
  });

  it('answers a body declared over the bound with 413 after reading it, not a broken pipe', async () => {
    const seen = api.seen.length;
    const answer = await post({ 'x-api-key': token }, ' '.repeat(200 * 1024));
    assert.equal(answer.status, 413, answer.body);
    assert.equal(api.seen.length, seen);
  });

  it('refuses a second Host, a second token and an absolute target', async () => {
    const seen = api.seen.length;
    const body = '{}';
    const base = `content-type: application/json\r\ncontent-length: ${body.length}\r\nx-api-key: ${token}\r\n`;
    assert.match(await rawExchange(port, `POST /anthropic/messages HTTP/1.1\r\nHost: a\r\nHost: evil.test\r\n${base}\r\n${body}`), /^HTTP\/1\.1 400/);
    assert.match(await rawExchange(port, `POST /anthropic/messages HTTP/1.1\r\nHost: a\r\n${base}x-api-key: other\r\n\r\n${body}`), /^HTTP\/1\.1 400/);
    assert.match(await rawExchange(port, `POST http://evil.test/anthropic/messages HTTP/1.1\r\nHost: evil.test\r\n${base}\r\n${body}`), /^HTTP\/1\.1 400/);
    assert.match(await rawExchange(port, `CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n`), /^(HTTP\/1\.1 (400|405)|)$/m);
    assert.equal(api.seen.length, seen, 'upstream saw a refused request');
  });

  it('never sends a key that would break its header, and says none is set', async () => {
    key = `${KEY}\r\nx-injected: 1`;
    const broken = await post({ 'x-api-key': token });
    key = undefined;
    const missing = await post({ 'x-api-key': token });
    key = KEY;
    assert.equal(broken.status, 502);
    assert.equal(missing.status, 502);
    assert.match(missing.body, /no usable key is set for 'anthropic'/);
    assert.ok(!broken.body.includes(KEY));
    assert.equal(api.seen.at(-1)?.headers['x-injected'], undefined);
  });

  it('takes a relayed agent\'s token only through that agent\'s own relay', async () => {
    const relayedToken = proxy.grant('r', { upstreams: ['anthropic'], relayed: true });
    const body = JSON.stringify({ input: 1, output: 1 });
    const requestWith = (presented: string): string => `POST /anthropic/messages HTTP/1.1\r\nHost: a\r\nConnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-api-key: ${presented}\r\n\r\n${body}`;
    const seen = api.seen.length;
    assert.match(await relayedExchange(proxy, 'r', requestWith(relayedToken)), /^HTTP\/1\.1 200/);
    assert.equal(api.seen.length, seen + 1);
    // Another agent's relay carrying r's token, r's token over TCP, and a's token through r's relay.
    assert.match(await relayedExchange(proxy, 'a', requestWith(relayedToken)), /^HTTP\/1\.1 403/);
    assert.match(await rawExchange(port, requestWith(relayedToken)), /^HTTP\/1\.1 403/);
    assert.match(await relayedExchange(proxy, 'r', requestWith(token)), /^HTTP\/1\.1 403/);
    assert.equal(api.seen.length, seen + 1, 'upstream saw a refused request');
    assert.ok(logged.some((line) => line.includes("agent r's token came from 127.0.0.1")), logged.join('\n'));
    proxy.revoke('r');
  });

  it('refuses granting an upstream that does not exist', () => {
    assert.throws(() => proxy.grant('b', { upstreams: ['nope'] }), /no API upstream named 'nope'/);
  });
});
