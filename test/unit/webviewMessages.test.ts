import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentStats } from '../../src/core/stats/statsSampler';
import { parseFromWebview, parseToWebview } from '../../src/webview/protocol/previewMessages';
import { MAX_USAGE_LINE, parseStatsMessage, type StatsMessage } from '../../src/webview/protocol/statsMessages';

const SAMPLE: AgentStats = {
  agentId: 'a1',
  cpuNanos: 5e9,
  cpuPercent: 12.5,
  memoryBytes: 64 * 1024 ** 2,
  memoryLimitBytes: 256 * 1024 ** 2,
  pids: 7,
  oomKills: 0,
  netRxBytes: 1024,
  netTxBytes: 2048,
  blockReadBytes: 4096,
  blockWriteBytes: 8192,
  sampledAt: 1_700_000_000_000,
};

/** What the page receives: posted messages cross as JSON, so undefined fields are gone. */
function overTheWire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe('stats webview messages', () => {
  it('accepts the samples the panel posts, as they arrive', () => {
    const sent: StatsMessage = { type: 'samples', samples: [SAMPLE, { ...SAMPLE, diskBytes: 1e6, memoryLimitBytes: undefined, sampledAt: SAMPLE.sampledAt + 2000 }] };
    assert.deepEqual(parseStatsMessage(overTheWire(sent)), overTheWire(sent));
    assert.deepEqual(parseStatsMessage({ type: 'samples', samples: [] }), { type: 'samples', samples: [] });
    const withUsage: StatsMessage = { type: 'samples', samples: [SAMPLE], apiUsage: '12 requests · 3.4k tokens in · 1.2k out · 56 KB' };
    assert.deepEqual(parseStatsMessage(overTheWire(withUsage)), withUsage);
  });

  it('refuses anything else', () => {
    for (const value of [
      undefined,
      null,
      'samples',
      { type: 'other', samples: [] },
      { type: 'samples' },
      { type: 'samples', samples: 'no' },
      { type: 'samples', samples: [null] },
      { type: 'samples', samples: [{ ...SAMPLE, cpuPercent: '12' }] },
      { type: 'samples', samples: [{ ...SAMPLE, pids: undefined }] },
      { type: 'samples', samples: [{ ...SAMPLE, diskBytes: 'soon' }] },
      { type: 'samples', samples: [], apiUsage: 12 },
      { type: 'samples', samples: [], apiUsage: 'x'.repeat(MAX_USAGE_LINE + 1) },
    ]) {
      assert.equal(parseStatsMessage(value), undefined, JSON.stringify(value));
    }
  });
});

describe('preview messages to the webview', () => {
  it('accepts what the panel posts', () => {
    assert.deepEqual(parseToWebview({ type: 'reload' }), { type: 'reload' });
    assert.deepEqual(parseToWebview({ type: 'navigate', path: 'about ' }), { type: 'navigate', path: 'about ' });
  });

  it('refuses anything else', () => {
    for (const value of [undefined, null, 'reload', { type: 'navigate' }, { type: 'navigate', path: 3 }, { type: 'setUrl', url: 'http://127.0.0.1:1/' }, { type: 'ready' }]) {
      assert.equal(parseToWebview(value), undefined, JSON.stringify(value));
    }
  });
});

describe('preview messages from the webview', () => {
  it('accepts what the page sends, the Forward Again button included', () => {
    assert.deepEqual(parseFromWebview({ type: 'forwardAgain' }), { type: 'forwardAgain' });
    assert.deepEqual(parseFromWebview({ type: 'navigated', path: '/about' }), { type: 'navigated', path: '/about' });
  });

  it('refuses anything else', () => {
    for (const value of [undefined, { type: 'forwardAgain!' }, { type: 'navigated', path: 'http://elsewhere/' }, { type: 'reload' }]) {
      assert.equal(parseFromWebview(value), undefined, JSON.stringify(value));
    }
  });
});
