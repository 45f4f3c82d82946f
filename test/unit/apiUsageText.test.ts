import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentUsage } from '../../src/core/apiProxy/agentUsage';
import { compactCount, usageLine } from '../../src/core/apiProxy/usageText';

const ZERO: AgentUsage = { requests: 0, bytesIn: 0, bytesOut: 0, inputTokens: 0, outputTokens: 0, refused: 0 };

describe('an agent\'s API usage in one line', () => {
  it('says requests, tokens in and out, and bytes both ways', () => {
    assert.equal(usageLine({ ...ZERO, requests: 12, inputTokens: 3400, outputTokens: 1234, bytesIn: 6 * 1024, bytesOut: 50 * 1024 }), '12 requests · 3.4k tokens in · 1.2k out · 56 KB');
    assert.equal(usageLine({ ...ZERO, requests: 1, inputTokens: 10, outputTokens: 20, bytesOut: 900 }), '1 request · 10 tokens in · 20 out · 900 B');
  });

  it('leaves tokens out when the API reported none, and says refusals when there were', () => {
    assert.equal(usageLine({ ...ZERO, requests: 3, bytesIn: 2 * 1024 ** 2 }), '3 requests · 2 MB');
    assert.equal(usageLine({ ...ZERO, refused: 2 }), '0 requests · 0 B · 2 refused');
  });

  it('is nothing for an agent that used no API', () => {
    assert.equal(usageLine(undefined), undefined);
    assert.equal(usageLine(ZERO), undefined);
  });

  it('counts in four characters or fewer', () => {
    const cases: [number, string][] = [[0, '0'], [999, '999'], [1000, '1k'], [3449, '3.4k'], [9960, '10k'], [56_000, '56k'], [999_499, '999k'], [999_500, '1M'], [1_250_000, '1.3M'], [42e9, '42B'], [7e15, '7000T']];
    assert.deepEqual(cases.map(([count]) => compactCount(count)), cases.map(([, text]) => text));
  });
});
