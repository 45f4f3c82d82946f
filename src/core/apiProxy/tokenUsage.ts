/** Tokens an API reported for one response. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

const MAX_COUNT = 1e12;

/**
 * The usage in one parsed JSON value, where OpenAI and Anthropic put it: `usage`
 * at the top (chat completions, messages, an SSE chunk, Anthropic's
 * `message_delta`), in `message` (Anthropic's `message_start`) or in
 * `response` (OpenAI's responses API). Input counts prompt tokens and
 * Anthropic's cache writes and reads (which its `input_tokens` leaves out,
 * where OpenAI's `prompt_tokens` already holds them).
 */
export function usageIn(value: unknown): TokenUsage | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const usage = [value.usage, field(value.message, 'usage'), field(value.response, 'usage')].find(isObject);
  if (!usage) {
    return undefined;
  }
  const input = (count(usage.input_tokens) ?? count(usage.prompt_tokens) ?? 0) + (count(usage.cache_creation_input_tokens) ?? 0) + (count(usage.cache_read_input_tokens) ?? 0);
  const output = count(usage.output_tokens) ?? count(usage.completion_tokens) ?? 0;
  return { inputTokens: input, outputTokens: output };
}

/**
 * One response's usage from several reports: streams repeat running totals
 * (Anthropic's input in `message_start`, its output growing in each
 * `message_delta`) or send one at the end (OpenAI), so the largest of each wins.
 */
export function mergedUsage(a: TokenUsage | undefined, b: TokenUsage | undefined): TokenUsage | undefined {
  if (!a || !b) {
    return a ?? b;
  }
  return { inputTokens: Math.max(a.inputTokens, b.inputTokens), outputTokens: Math.max(a.outputTokens, b.outputTokens) };
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_COUNT ? value : undefined;
}

function field(value: unknown, name: string): unknown {
  return isObject(value) ? value[name] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
