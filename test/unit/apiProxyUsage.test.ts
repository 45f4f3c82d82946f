import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentUsageCounts } from '../../src/core/apiProxy/agentUsage';
import { mergedUsage, usageIn } from '../../src/core/apiProxy/tokenUsage';
import { JSON_TAIL, JsonUsageScanner, lastUsageObject, MAX_JSON_BODY, MAX_SSE_EVENT, SseUsageScanner, usageScannerFor, type UsageScanner } from '../../src/core/apiProxy/usageScanner';

/** An Anthropic messages stream: input in message_start, output growing in message_delta. */
const ANTHROPIC_SSE = [
  'event: message_start',
  'data: {"type":"message_start","message":{"id":"m1","role":"assistant","content":[],"usage":{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":1}}}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"the word \\"usage\\": é 日本"}}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{},"usage":{"output_tokens":15}}',
  '',
  'event: message_stop',
  'data: {"type":"message_stop"}',
  '',
  '',
].join('\n');

/** An OpenAI chat completions stream with stream_options.include_usage, CRLF line ends. */
const OPENAI_SSE = [
  'data: {"id":"c1","choices":[{"delta":{"content":"Hel"}}],"usage":null}',
  '',
  'data: {"id":"c1","choices":[{"delta":{"content":"lo"}}],"usage":null}',
  '',
  'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0}}}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\r\n');

function scanInPieces(scanner: UsageScanner, text: string, cuts: readonly number[]): ReturnType<UsageScanner['end']> {
  const bytes = Buffer.from(text);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    scanner.push(bytes.subarray(from, cut));
    from = cut;
  }
  return scanner.end();
}

describe('API proxy usage', () => {
  it('reads usage as OpenAI and Anthropic name it', () => {
    assert.deepEqual(usageIn({ usage: { prompt_tokens: 9, completion_tokens: 2 } }), { inputTokens: 9, outputTokens: 2 });
    assert.deepEqual(usageIn({ usage: { input_tokens: 3, output_tokens: 4, cache_creation_input_tokens: 10, cache_read_input_tokens: 20 } }), { inputTokens: 33, outputTokens: 4 });
    assert.deepEqual(usageIn({ type: 'message_start', message: { usage: { input_tokens: 7, output_tokens: 1 } } }), { inputTokens: 7, outputTokens: 1 });
    assert.deepEqual(usageIn({ type: 'response.completed', response: { usage: { input_tokens: 5, output_tokens: 6 } } }), { inputTokens: 5, outputTokens: 6 });
    assert.equal(usageIn({ usage: null }), undefined);
    assert.equal(usageIn([{ usage: {} }]), undefined);
    assert.deepEqual(usageIn({ usage: { input_tokens: -5, output_tokens: 1.5, prompt_tokens: '9' } }), { inputTokens: 0, outputTokens: 0 });
    assert.deepEqual(mergedUsage({ inputTokens: 5, outputTokens: 1 }, { inputTokens: 0, outputTokens: 9 }), { inputTokens: 5, outputTokens: 9 });
  });

  it('counts an Anthropic SSE stream split at every byte', () => {
    const bytes = Buffer.byteLength(ANTHROPIC_SSE);
    for (let cut = 1; cut < bytes; cut++) {
      assert.deepEqual(scanInPieces(new SseUsageScanner(), ANTHROPIC_SSE, [cut]), { inputTokens: 30, outputTokens: 15 }, `split at ${cut}`);
    }
    const everyByte = Array.from({ length: bytes - 1 }, (_, i) => i + 1);
    assert.deepEqual(scanInPieces(new SseUsageScanner(), ANTHROPIC_SSE, everyByte), { inputTokens: 30, outputTokens: 15 });
  });

  it('counts an OpenAI SSE stream with CRLF line ends, split anywhere', () => {
    for (let cut = 1; cut < OPENAI_SSE.length; cut += 7) {
      assert.deepEqual(scanInPieces(new SseUsageScanner(), OPENAI_SSE, [cut, cut + 3]), { inputTokens: 9, outputTokens: 2 }, `split at ${cut}`);
    }
  });

  it('joins an event\'s data lines, and counts a stream whose last event has no blank line', () => {
    const text = 'data: {"usage":\ndata: {"input_tokens":4,"output_tokens":2}}\n\ndata: {"usage":{"output_tokens":8}}';
    assert.deepEqual(scanInPieces(new SseUsageScanner(), text, [10]), { inputTokens: 4, outputTokens: 8 });
  });

  it('passes over an event longer than its bound, holding none of it, and reads the next', () => {
    const huge = `data: {"usage":{"input_tokens":999999},"pad":"${'x'.repeat(MAX_SSE_EVENT + 10)}"}\n\n`;
    const cuts = Array.from({ length: 40 }, (_, i) => (i + 1) * 8192);
    const text = `${huge}data: {"usage":{"input_tokens":3,"output_tokens":4}}\n\n`;
    assert.deepEqual(scanInPieces(new SseUsageScanner(), text, cuts), { inputTokens: 3, outputTokens: 4 });
  });

  it('reads a JSON body whole, and a large one from its tail only', () => {
    const body = JSON.stringify({ id: 'm', content: [{ text: 'has "usage": {"input_tokens": 1000}' }], usage: { input_tokens: 11, output_tokens: 22 } });
    assert.deepEqual(scanInPieces(new JsonUsageScanner(), body, [3, 50]), { inputTokens: 11, outputTokens: 22 });
    const large = JSON.stringify({ content: 'y'.repeat(MAX_JSON_BODY * 2), usage: { prompt_tokens: 8, completion_tokens: 9, details: { cached_tokens: 1 } } });
    const scanner = new JsonUsageScanner();
    const cuts = Array.from({ length: Math.floor(large.length / 5000) }, (_, i) => (i + 1) * 5000);
    assert.deepEqual(scanInPieces(scanner, large, cuts), { inputTokens: 8, outputTokens: 9 });
    assert.equal(scanInPieces(new JsonUsageScanner(), '{"usage": {"input_tokens": ', []), undefined);
    assert.ok(JSON_TAIL < MAX_JSON_BODY);
  });

  it('finds the last usage object with braces inside strings', () => {
    assert.equal(lastUsageObject('{"a":1,"usage":{"x":"}{","n":{"m":2}}, "b": 2}'), '{"x":"}{","n":{"m":2}}');
    assert.equal(lastUsageObject('{"usage": 5}'), undefined);
    assert.equal(lastUsageObject('{"usage":{"x":1'), undefined);
  });

  it('picks a scanner by content type', () => {
    assert.ok(usageScannerFor('text/event-stream; charset=utf-8') instanceof SseUsageScanner);
    assert.ok(usageScannerFor('application/json') instanceof JsonUsageScanner);
    assert.ok(usageScannerFor('application/problem+json') instanceof JsonUsageScanner);
    assert.equal(usageScannerFor('text/plain'), undefined);
    assert.equal(usageScannerFor(undefined), undefined);
  });

  it('adds per agent', () => {
    const counts = new AgentUsageCounts();
    counts.request('a');
    counts.request('a');
    counts.bytes('a', 'in', 10);
    counts.bytes('a', 'out', 30);
    counts.tokens('a', { inputTokens: 3, outputTokens: 4 });
    counts.tokens('a', { inputTokens: 1, outputTokens: 1 });
    counts.refused('b');
    assert.deepEqual(counts.of('a'), { requests: 2, bytesIn: 10, bytesOut: 30, inputTokens: 4, outputTokens: 5, refused: 0 });
    assert.deepEqual(counts.of('b'), { requests: 0, bytesIn: 0, bytesOut: 0, inputTokens: 0, outputTokens: 0, refused: 1 });
    assert.equal(counts.all().size, 2);
    counts.forget('a');
    assert.equal(counts.of('a').requests, 0);
  });
});
