import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AgentUsage } from '../../src/core/apiProxy/agentUsage';
import { AgentUsageCounts } from '../../src/core/apiProxy/agentUsage';
import { UsageKeeper, usageSince } from '../../src/core/apiProxy/usageKeeper';
import { parseUsageFile, UsageStore } from '../../src/core/apiProxy/usageStore';
import { UsageWatch } from '../../src/core/apiProxy/usageWatch';
import type { Logger } from '../../src/core/logger';
import { makeTempDir, removeDir } from '../support/testEnv';

const ZERO: AgentUsage = { requests: 0, bytesIn: 0, bytesOut: 0, inputTokens: 0, outputTokens: 0, refused: 0 };
const usage = (fields: Partial<AgentUsage>): AgentUsage => ({ ...ZERO, ...fields });

/** A logger that keeps its warnings. */
function warnings(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: (message: string) => lines.push(message), error: () => undefined };
}

describe('UsageStore: each agent\'s API usage, kept on the host', () => {
  const dir = makeTempDir('usage-store');
  after(() => removeDir(dir));
  let n = 0;
  const fileOf = (): string => join(dir, `usage-${++n}.json`);

  it('adds deltas to what the file holds, so another process goes on from the totals; the file is the user\'s alone, written whole', async () => {
    const file = fileOf();
    const first = new UsageStore(file);
    assert.deepEqual(first.read(), new Map(), 'no file reads as no usage');
    await first.add(new Map([['a1', usage({ requests: 2, bytesIn: 100, bytesOut: 900, inputTokens: 30, outputTokens: 40 })]]));
    // Another process (the CLI's task after a window) adds its own.
    const second = new UsageStore(file);
    await second.add(new Map([['a1', usage({ requests: 1, bytesOut: 100, outputTokens: 5, refused: 1 })], ['b2', usage({ requests: 1 })]]));
    assert.deepEqual(new UsageStore(file).read(), new Map([
      ['a1', usage({ requests: 3, bytesIn: 100, bytesOut: 1000, inputTokens: 30, outputTokens: 45, refused: 1 })],
      ['b2', usage({ requests: 1 })],
    ]));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // Nothing left beside it: no temporary file, no lock.
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith(`usage-${n}.`) && name !== `usage-${n}.json`), []);
  });

  it('forgets a removed agent, and every agent that no longer exists', async () => {
    const store = new UsageStore(fileOf());
    await store.add(new Map(['a', 'b', 'c', 'd'].map((id) => [id, usage({ requests: 1 })])));
    await store.forget(['b']);
    assert.deepEqual([...store.read().keys()].sort(), ['a', 'c', 'd']);
    await store.keepOnly(['a', 'x']);
    assert.deepEqual([...store.read().keys()], ['a']);
    const stamp = store.stamp();
    await store.forget(['not-there']);
    assert.equal(store.stamp(), stamp, 'a forget that changes nothing rewrote the file');
  });

  it('starts from empty, with one line in the log, on a file that is not one, and writes a good one at the next add', async () => {
    const file = fileOf();
    const log = warnings();
    const store = new UsageStore(file, { log });
    for (const text of ['{"version":1,"agents":{"a":{"requests":', 'null', '[]', '{"version":2,"agents":{}}', '{"version":1,"agents":[]}']) {
      writeFileSync(file, text);
      assert.deepEqual(store.read(), new Map(), text);
    }
    assert.ok(log.lines.length >= 1 && log.lines.every((line) => /is not a file of API usage: the agents' usage starts again from nothing/.test(line)), log.lines.join('\n'));
    const said = log.lines.length;
    store.read();
    store.read();
    assert.equal(log.lines.length, said, 'the same bad file was reported again');
    await store.add(new Map([['a', usage({ requests: 1 })]]));
    assert.deepEqual(store.read(), new Map([['a', usage({ requests: 1 })]]));
  });

  it('keeps only well-formed entries: agent ids, whole non-negative counts; nothing else of an entry is read', () => {
    const good = { ...usage({ requests: 4, inputTokens: 7 }), updatedAt: 1 };
    const entries = parseUsageFile(JSON.stringify({
      version: 1,
      agents: {
        ok: { ...good, extra: 'ignored' },
        '../etc': good,
        ['__proto__']: good,
        'neg': { ...good, requests: -1 },
        'frac': { ...good, bytesIn: 1.5 },
        'str': { ...good, outputTokens: '9' },
        'huge': { ...good, bytesOut: 2 ** 60 },
        'no-stamp': usage({ requests: 1 }),
      },
    }));
    assert.deepEqual(entries, new Map([['ok', good]]));
  });

  it('reads no file larger than its bound, and writes none: the agents used longest ago go first', async () => {
    const file = fileOf();
    const log = warnings();
    writeFileSync(file, JSON.stringify({ version: 1, agents: { a: { ...usage({ requests: 1 }), updatedAt: 1 } } }) + ' '.repeat(2048));
    const store = new UsageStore(file, { log, maxBytes: 1024 });
    assert.deepEqual(store.read(), new Map());
    assert.match(log.lines.join('\n'), /cannot be read \(\d+ bytes, more than the 1024 read\)/);
    for (let i = 0; i < 20; i++) {
      await store.add(new Map([[`agent-${i}`, usage({ requests: i + 1 })]]));
    }
    assert.ok(statSync(file).size <= 1024, `${statSync(file).size} bytes`);
    const kept = store.read();
    assert.ok(kept.size >= 3 && kept.size < 20, `${kept.size} kept`);
    assert.ok(kept.has('agent-19') && !kept.has('agent-0'), [...kept.keys()].join(' '));
    assert.match(log.lines.join('\n'), /would be larger than 1024 bytes: the usage of \d+ agent\(s\) used longest ago is dropped/);
  });

  it('adds every process\'s deltas when several write at once (the lock), and a reader never sees half a file', async () => {
    const file = fileOf();
    const module = join(__dirname, '..', '..', 'src', 'core', 'apiProxy', 'usageStore.js');
    const script = `const { UsageStore } = require(${JSON.stringify(module)});
      (async () => { const store = new UsageStore(${JSON.stringify(file)});
        for (let i = 0; i < 25; i++) await store.add(new Map([['shared', { requests: 1, bytesIn: 10, bytesOut: 0, inputTokens: 0, outputTokens: 0, refused: 0 }], ['p' + process.pid, { requests: 1, bytesIn: 0, bytesOut: 0, inputTokens: 0, outputTokens: 0, refused: 0 }]]));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    const reader = new UsageStore(file, { log: warnings() });
    let reads = 0;
    let running = true;
    const reading = (async () => {
      while (running) {
        const shared = reader.read().get('shared');
        assert.ok(shared === undefined || shared.requests > 0);
        reads++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const codes = await Promise.all([1, 2, 3].map(() => new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', resolve);
    })));
    running = false;
    await reading;
    assert.deepEqual(codes, [0, 0, 0]);
    const totals = reader.read();
    assert.deepEqual(totals.get('shared'), usage({ requests: 75, bytesIn: 750 }));
    assert.equal([...totals.keys()].filter((id) => id.startsWith('p')).length, 3);
    assert.ok(reads > 0);
    assert.doesNotThrow(() => JSON.parse(readFileSync(file, 'utf8')));
  });
});

describe('UsageKeeper: a proxy\'s counts into the store', () => {
  const dir = makeTempDir('usage-keeper');
  after(() => removeDir(dir));

  it('writes what came since its last write, once, a moment after a change; a second proxy (a reloaded window) adds its own', async () => {
    const file = join(dir, 'keeper.json');
    const store = new UsageStore(file);
    // As the proxy does: each count tells the keeper, which reads the counts' totals.
    const counts: AgentUsageCounts = new AgentUsageCounts(() => keeper.changed());
    const keeper = new UsageKeeper(store, () => counts.all(), { delayMs: 50 });
    counts.request('a');
    counts.bytes('a', 'out', 500);
    counts.tokens('a', { inputTokens: 10, outputTokens: 20 });
    assert.equal(store.stamp(), undefined, 'written before the delay');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.deepEqual(store.read().get('a'), usage({ requests: 1, bytesOut: 500, inputTokens: 10, outputTokens: 20 }));
    // Two flushes with nothing new between them: the second adds nothing.
    await keeper.flush();
    await keeper.flush();
    assert.deepEqual(store.read().get('a'), usage({ requests: 1, bytesOut: 500, inputTokens: 10, outputTokens: 20 }));
    counts.request('a');
    await keeper.close();
    assert.equal(store.read().get('a')?.requests, 2, 'close did not write what was left');
    // The next window's proxy counts from zero; the file goes on from its totals.
    const next = new AgentUsageCounts();
    const nextKeeper = new UsageKeeper(store, () => next.all(), { delayMs: 50 });
    next.request('a');
    next.tokens('a', { inputTokens: 1, outputTokens: 1 });
    await nextKeeper.close();
    assert.deepEqual(store.read().get('a'), usage({ requests: 3, bytesOut: 500, inputTokens: 11, outputTokens: 21 }));
  });

  it('keeps a write that failed for the next one, and says so once', async () => {
    const log = warnings();
    const added: AgentUsage[] = [];
    let fail = 2;
    const store = {
      file: 'fake.json',
      add: async (deltas: ReadonlyMap<string, AgentUsage>) => {
        if (fail-- > 0) {
          throw new Error('held by another process');
        }
        added.push(...deltas.values());
      },
      forget: async () => undefined,
    };
    const counts = new AgentUsageCounts();
    const keeper = new UsageKeeper(store, () => counts.all(), { delayMs: 20, log });
    counts.request('a');
    await keeper.flush();
    counts.request('a');
    await keeper.flush();
    await keeper.close();
    assert.deepEqual(added, [usage({ requests: 2 })]);
    assert.equal(log.lines.length, 1, log.lines.join('\n'));
    assert.match(log.lines[0] ?? '', /cannot keep the agents' usage in fake\.json .*held by another process/);
  });

  it('forgets a revoked agent, and writes nothing more of it (a stream still counting) until it is granted again', async () => {
    const store = new UsageStore(join(dir, 'forget.json'));
    const counts = new AgentUsageCounts();
    const keeper = new UsageKeeper(store, () => counts.all(), { delayMs: 20 });
    counts.request('a');
    counts.request('b');
    await keeper.flush();
    counts.forget('a');
    await keeper.forget('a');
    counts.bytes('a', 'out', 100);
    await keeper.flush();
    assert.deepEqual([...store.read().keys()], ['b']);
    keeper.granted('a');
    counts.request('a');
    await keeper.close();
    assert.deepEqual(store.read().get('a'), usage({ requests: 1, bytesOut: 100 }));
  });

  it('takes counts lower than written as counts started again', () => {
    assert.deepEqual(usageSince(usage({ requests: 3, bytesIn: 9 }), usage({ requests: 1, bytesIn: 4 })), usage({ requests: 2, bytesIn: 5 }));
    assert.equal(usageSince(usage({ requests: 3 }), usage({ requests: 3 })), undefined);
    assert.deepEqual(usageSince(usage({ requests: 1, bytesIn: 9 }), usage({ requests: 3, bytesIn: 4 })), usage({ requests: 1, bytesIn: 9 }));
    assert.deepEqual(usageSince(usage({ refused: 1 }), undefined), usage({ refused: 1 }));
  });
});

describe('UsageWatch: the kept usage as it changes', () => {
  const dir = makeTempDir('usage-watch');
  after(() => removeDir(dir));

  it('tells the agents whose figures changed, and reads again only when the file did', async () => {
    const store = new UsageStore(join(dir, 'watch.json'));
    await store.add(new Map([['a', usage({ requests: 1 })]]));
    let reads = 0;
    const counted = {
      read: () => {
        reads++;
        return store.read();
      },
      stamp: () => store.stamp(),
    };
    const watch = new UsageWatch(counted, 60_000);
    const told: (readonly string[])[] = [];
    watch.onDidChange((ids) => told.push(ids));
    try {
      assert.deepEqual(watch.of('a'), usage({ requests: 1 }));
      assert.equal(watch.of('b'), undefined);
      watch.look();
      assert.equal(reads, 1, 'read again though the file had not changed');
      await store.add(new Map([['b', usage({ requests: 2 })]]));
      watch.look();
      assert.deepEqual(told, [['b']]);
      await store.forget(['a']);
      watch.look();
      assert.deepEqual(told, [['b'], ['a']]);
      assert.equal(watch.of('a'), undefined);
    } finally {
      watch.dispose();
    }
  });
});
