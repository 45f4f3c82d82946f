import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiProxy } from '../../src/core/apiProxy/apiProxy';
import { agentBaseUrl, proxyPlacement, type ProxyPlacement } from '../../src/core/apiProxy/proxyPlacement';
import { containerAddress } from '../../src/core/docker/containerAddress';
import type { Engine } from '../../src/core/docker/engine';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { AgentNetwork } from '../../src/core/network/agentNetwork';
import { trustSetup } from '../../src/core/setup/setupProposal';
import { FakeLlmApi, type FakeAsk } from '../support/fakeLlmApi';
import { GitServer } from '../support/gitServer';
import { LLM_CLIENT_SCRIPT } from '../support/llmClient';
import { makeTestCertificates } from '../support/testCertificates';
import { idPrefix, makeTempDir, removeAgents, removeDir, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

interface ClientSpec {
  readonly env: 'ANTHROPIC' | 'OPENAI';
  readonly path?: string;
  readonly body?: FakeAsk;
  readonly token?: string | null;
  readonly header?: 'x-api-key' | 'authorization';
  readonly headers?: Record<string, string>;
  readonly target?: string;
  readonly pad?: number;
  readonly abortAfterFirst?: boolean;
}

interface ClientResult {
  readonly status: number;
  /** [ms since the request, bytes] per piece as it arrived. */
  readonly pieces: Array<[number, number]>;
  readonly body: string;
}

const MAX_REQUEST = 1024 * 1024;

describe('API proxy: agents call APIs with a per-agent token, the host adds the key', () => {
  const KEY = `sk-test-${randomBytes(24).toString('hex')}`;
  const prefix = idPrefix('apiproxy');
  const id = (name: string): string => `${prefix}-${name}`;
  let dir: string;
  let engine: Engine;
  let api: FakeLlmApi;
  let proxy: ApiProxy;
  let placement: Extract<ProxyPlacement, { kind: 'listen' }>;
  let port: number;
  let server: GitServer;
  let core: GitisoCore;
  const tokens: Record<string, string> = {};

  before(async () => {
    engine = await testEngine();
    dir = makeTempDir('apiproxy');
    const certificates = makeTestCertificates(dir);
    api = await FakeLlmApi.start(KEY, certificates);
    const gateway = await new AgentNetwork({ engine, setting: TEST_NETWORK }).gateway();
    const placed = proxyPlacement({ hostPlatform: process.platform, engineOperatingSystem: await engine.operatingSystem(), engineAddress: engine.address, gateway });
    assert.equal(placed.kind, 'listen', 'the test engine is local, with a gateway: the proxy listens for its agents');
    placement = placed as typeof placement;
    proxy = new ApiProxy({
      upstreams: [
        { name: 'anthropic', baseUrl: `${api.url}/anthropic/v1`, keyHeader: 'x-api-key', tokenHeader: 'x-api-key' },
        { name: 'openai', baseUrl: `${api.url}/openai/v1`, keyHeader: 'authorization', keyFormat: 'Bearer {key}', tokenHeader: 'authorization' },
      ],
      keyFor: () => KEY,
      ca: certificates.ca,
      maxRequestBytes: MAX_REQUEST,
    });
    port = await proxy.listen(placement.listenHost);
    tokens.a = proxy.grant(id('a'), { upstreams: ['anthropic', 'openai'] });
    tokens.b = proxy.grant(id('b'), { upstreams: ['anthropic'] });
    const envFor = (token: string): Record<string, string> => ({
      ANTHROPIC_BASE_URL: agentBaseUrl(placement, port, 'anthropic'), ANTHROPIC_API_KEY: token,
      OPENAI_BASE_URL: agentBaseUrl(placement, port, 'openai'), OPENAI_API_KEY: token,
    });
    server = await GitServer.start(engine, testImage());
    server.createRepo('app', { 'README.md': 'app\n' });
    core = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'P', email: 'p@example.com' }, setupConsent: trustSetup });
    const outcomes = await core.creator.createMany(['a', 'b'].map((name) => ({ id: id(name), repoUrl: server.url('app'), env: envFor(tokens[name] ?? '') })), { concurrency: 2 });
    for (const outcome of outcomes) {
      assert.ok('agent' in outcome, `create failed: ${'error' in outcome ? outcome.error.message : ''}`);
    }
    // On a Linux bridge each agent's token works only from its own address.
    for (const name of ['a', 'b']) {
      const info = await engine.inspectContainer((await core.agents.get(id(name))).containerId);
      const address = containerAddress(info);
      assert.ok(address, `agent ${name} has no address`);
      proxy.bindAddress(id(name), address);
    }
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await core?.snapshots.prune(0).catch(() => undefined);
    core?.dispose();
    await server?.stop();
    await proxy?.close();
    await api?.stop();
    removeDir(dir);
  });

  async function call(agent: string, spec: ClientSpec): Promise<ClientResult> {
    const result = await core.exec.run(id(agent), ['python3', '-c', LLM_CLIENT_SCRIPT, JSON.stringify(spec)], { timeoutMs: 60_000 });
    assert.equal(result.exitCode, 0, `the client in agent ${agent} failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as ClientResult;
  }

  const anthropic = (body: FakeAsk, extra: Partial<ClientSpec> = {}): ClientSpec => ({ env: 'ANTHROPIC', path: '/messages', body, ...extra });
  const openai = (body: FakeAsk, extra: Partial<ClientSpec> = {}): ClientSpec => ({ env: 'OPENAI', path: '/chat/completions', header: 'authorization', body, ...extra });

  it('streams server-sent events to the agent as upstream sends them, and counts usage per agent as upstream reported it', async () => {
    const streamed = await call('a', anthropic({ stream: true, input: 31, output: 47, pieces: 5, delayMs: 250 }, { headers: { 'x-test-agent': 'a' } }));
    assert.equal(streamed.status, 200, streamed.body);
    assert.match(streamed.body, /event: message_stop/);
    // 8 events 250 ms apart: they must arrive spread out, not all at the end.
    assert.ok(streamed.pieces.length >= 6, `the stream came in ${streamed.pieces.length} pieces: ${JSON.stringify(streamed.pieces)}`);
    const first = streamed.pieces[0]?.[0] ?? 0;
    const last = streamed.pieces.at(-1)?.[0] ?? 0;
    assert.ok(last - first >= 1200, `the pieces arrived within ${last - first} ms: ${JSON.stringify(streamed.pieces)}`);

    const chat = await call('a', openai({ stream: true, input: 13, output: 17, pieces: 3, delayMs: 100 }, { headers: { 'x-test-agent': 'a' } }));
    assert.equal(chat.status, 200, chat.body);
    assert.match(chat.body, /\[DONE\]/);
    const plain = await call('b', anthropic({ input: 5, output: 6 }, { headers: { 'x-test-agent': 'b' } }));
    assert.equal(plain.status, 200, plain.body);
    assert.match(plain.body, /"usage"/);

    for (const [agent, results] of [['a', [streamed, chat]], ['b', [plain]]] as const) {
      const reported = api.seen.filter((seen) => seen.headers['x-test-agent'] === agent && seen.reported);
      const usage = proxy.usage(id(agent));
      assert.equal(usage.requests, results.length);
      assert.equal(usage.inputTokens, reported.reduce((sum, seen) => sum + (seen.reported?.input ?? 0), 0));
      assert.equal(usage.outputTokens, reported.reduce((sum, seen) => sum + (seen.reported?.output ?? 0), 0));
      assert.equal(usage.bytesOut, results.reduce((sum, result) => sum + Buffer.byteLength(result.body), 0));
      assert.ok(usage.bytesIn > 0);
    }
    assert.deepEqual([proxy.usage(id('a')).inputTokens, proxy.usage(id('a')).outputTokens, proxy.usage(id('b')).inputTokens, proxy.usage(id('b')).outputTokens], [44, 64, 5, 6]);
  });

  it('gives upstream the real key, only from the proxy, and never an agent\'s token', () => {
    assert.ok(api.seen.length > 0);
    for (const seen of api.seen) {
      assert.equal(seen.keyed, true, `upstream got ${seen.path} without the key`);
      assert.ok(!JSON.stringify(seen.headers).includes('gitiso-'), `an agent's token reached upstream: ${JSON.stringify(seen.headers)}`);
      assert.equal(seen.headers.host, new URL(api.url).host);
    }
  });

  it('refuses no token, another agent\'s token, an upstream not granted, an unknown token and a revoked one; upstream sees none of them', async () => {
    const before = api.seen.length;
    assert.equal((await call('a', anthropic({}, { token: null }))).status, 401);
    assert.equal((await call('a', anthropic({}, { token: `gitiso-${randomBytes(32).toString('base64url')}` }))).status, 401);
    assert.equal((await call('a', anthropic({}, { token: KEY }))).status, 401, 'the real key works as a token');
    const stolen = await call('a', anthropic({}, { token: tokens.b }));
    assert.equal(stolen.status, 403, `agent a used agent b's token: ${stolen.body}`);
    assert.match(stolen.body, /another agent/);
    const notGranted = await call('b', openai({}));
    assert.equal(notGranted.status, 403, notGranted.body);
    assert.equal((await call('b', anthropic({}))).status, 200, 'agent b cannot use its own grant');
    proxy.revoke(id('b'));
    const revoked = await call('b', anthropic({}));
    assert.equal(revoked.status, 401, revoked.body);
    assert.ok(!revoked.body.includes(tokens.b ?? '') && !revoked.body.includes(KEY));
    assert.equal(api.seen.length, before + 1, 'upstream saw a refused request');
  });

  it('refuses paths out of the upstream\'s base, absolute targets and bodies over the bound, and ignores the agent\'s Host', async () => {
    const before = api.seen.length;
    for (const target of ['/anthropic/%2e%2e/%2e%2e/openai/v1/chat/completions', '/anthropic/..%2f..%2fsecret', 'http://evil.test/anthropic/messages']) {
      const result = await call('a', anthropic({}, { target }));
      assert.equal(result.status, 400, `${target}: ${result.body}`);
    }
    const large = await call('a', anthropic({}, { pad: MAX_REQUEST + 1 }));
    assert.equal(large.status, 413, large.body);
    assert.equal(api.seen.length, before, 'upstream saw a refused request');
    const hosted = await call('a', anthropic({ input: 1, output: 1 }, { headers: { Host: 'evil.test', 'x-forwarded-host': 'evil.test', connection: 'x-api-key' } }));
    assert.equal(hosted.status, 200, hosted.body);
    assert.equal(api.seen.at(-1)?.headers.host, new URL(api.url).host);
    assert.equal(api.seen.at(-1)?.headers['x-forwarded-host'], undefined);
  });

  it('ends the upstream request when the agent goes away mid-stream', async () => {
    const cut = await call('a', anthropic({ stream: true, pieces: 100, delayMs: 100 }, { abortAfterFirst: true }));
    assert.equal(cut.status, 200);
    const seen = api.seen.at(-1);
    assert.ok(seen);
    await waitFor('upstream to see the agent go', () => seen.closedEarly, 5_000);
  });

  it('listens only where agents reach it, not on this machine\'s loopback', async (t) => {
    if (placement.listenHost === '127.0.0.1') {
      t.skip('Docker Desktop: the proxy listens on 127.0.0.1 by design');
      return;
    }
    assert.notEqual(placement.listenHost, '0.0.0.0');
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(undefined);
      }).on('error', resolve);
    });
    assert.equal(error?.code, 'ECONNREFUSED', 'the proxy answers on 127.0.0.1');
  });

  it('leaves the key out of every container: environment, docker inspect, image and files', async () => {
    for (const name of ['a', 'b']) {
      const agent = await core.agents.get(id(name));
      const info = await engine.inspectContainer(agent.containerId);
      assert.ok(JSON.stringify(info).includes('ANTHROPIC_BASE_URL'), 'the agent was not given its base URL');
      assert.ok(!JSON.stringify(info).includes(KEY), `docker inspect of agent ${name} shows the key`);
      assert.ok(!JSON.stringify(await engine.inspectImage(info?.Image ?? '')).includes(KEY), `agent ${name}'s image holds the key`);
      const env = await core.exec.run(id(name), ['sh', '-c', 'env; tr "\\0" "\\n" < /proc/1/environ']);
      assert.match(env.stdout, /ANTHROPIC_API_KEY=gitiso-/);
      assert.ok(!env.stdout.includes(KEY), `agent ${name}'s environment holds the key`);
      // Every file in the container (its /proc, /sys and /dev are the kernel's, and grep's own argv is in /proc).
      // A marker file shows the search reads files: it must find that and nothing else.
      const marker = `marker-${randomBytes(8).toString('hex')}`;
      assert.equal((await core.exec.run(id(name), ['sh', '-c', 'echo "$1" > /tmp/marker', '_', marker])).exitCode, 0);
      const found = await core.exec.run(id(name), ['grep', '-rlsF', '--exclude-dir=proc', '--exclude-dir=sys', '--exclude-dir=dev', '-e', KEY, '-e', marker, '/'], { timeoutMs: 120_000 });
      assert.equal(found.stdout.trim(), '/tmp/marker', `agent ${name}'s files hold the key`);
    }
  });
});
