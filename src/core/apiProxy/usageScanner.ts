import { mergedUsage, usageIn, type TokenUsage } from './tokenUsage';

/** Reads a response's usage as its bytes pass, holding at most a bounded part of them. */
export interface UsageScanner {
  push(chunk: Buffer): void;
  /** The usage the response reported, if any. */
  end(): TokenUsage | undefined;
}

/** The longest SSE event read for usage; a longer one (a large delta) is passed over, never held. */
export const MAX_SSE_EVENT = 256 * 1024;
/** A JSON body up to this size is parsed whole; past it only its last TAIL bytes are kept. */
export const MAX_JSON_BODY = 256 * 1024;
export const JSON_TAIL = 16 * 1024;

/** A scanner for a response of this content type; undefined for one that reports no usage. */
export function usageScannerFor(contentType: string | undefined): UsageScanner | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'text/event-stream') {
    return new SseUsageScanner();
  }
  if (type === 'application/json' || type?.endsWith('+json')) {
    return new JsonUsageScanner();
  }
  return undefined;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const USAGE = Buffer.from('"usage"');

/**
 * Server-sent events, split anywhere. The bytes of the current event are
 * kept as slices of the chunks they came in (no copy), up to a bound; an
 * event ends at a blank line; only one whose bytes hold `"usage"` is joined,
 * decoded and parsed. Everything else passes untouched: a stream costs a
 * newline search and a `"usage"` search per chunk.
 */
export class SseUsageScanner implements UsageScanner {
  private parts: Buffer[] = [];
  private length = 0;
  /** The last bytes of the previous part, for a `"usage"` cut in two. */
  private tail: Buffer = Buffer.alloc(0);
  private mentionsUsage = false;
  /** An event longer than the bound is passed over to its end. */
  private skipping = false;
  /** Bytes of the current line in earlier chunks, and the last of them. */
  private lineCarried = 0;
  private lastByte = 0;
  private usage: TokenUsage | undefined;

  push(chunk: Buffer): void {
    let eventStart = 0;
    let lineStart = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline >= 0; newline = chunk.indexOf(NEWLINE, lineStart)) {
      const lineLength = this.lineCarried + newline - lineStart;
      const before = newline > lineStart ? chunk[newline - 1] : this.lastByte;
      if (lineLength === 0 || (lineLength === 1 && before === CARRIAGE_RETURN)) {
        this.take(chunk.subarray(eventStart, newline + 1));
        this.dispatch();
        eventStart = newline + 1;
      }
      this.lineCarried = 0;
      lineStart = newline + 1;
    }
    this.take(chunk.subarray(eventStart));
    if (lineStart < chunk.length) {
      this.lineCarried += chunk.length - lineStart;
      this.lastByte = chunk[chunk.length - 1] ?? 0;
    }
  }

  end(): TokenUsage | undefined {
    this.dispatch();
    return this.usage;
  }

  private take(part: Buffer): void {
    if (this.skipping || part.length === 0) {
      return;
    }
    this.length += part.length;
    if (this.length > MAX_SSE_EVENT) {
      this.skipping = true;
      this.parts = [];
      return;
    }
    const keep = USAGE.length - 1;
    this.mentionsUsage ||= part.includes(USAGE) || Buffer.concat([this.tail, part.subarray(0, keep)]).includes(USAGE);
    this.tail = part.length >= keep ? part.subarray(-keep) : Buffer.concat([this.tail, part]).subarray(-keep);
    this.parts.push(part);
  }

  private dispatch(): void {
    const { parts, mentionsUsage, skipping } = this;
    this.parts = [];
    this.length = 0;
    this.tail = Buffer.alloc(0);
    this.mentionsUsage = false;
    this.skipping = false;
    if (skipping || !mentionsUsage) {
      return;
    }
    const data = Buffer.concat(parts).toString('utf8').split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
      .join('\n');
    this.usage = mergedUsage(this.usage, usageIn(parsed(data)));
  }
}

/** A JSON body: parsed whole when small, else the last `"usage": {…}` in its tail. */
export class JsonUsageScanner implements UsageScanner {
  private chunks: Buffer[] = [];
  private length = 0;
  private overflowed = false;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length > MAX_JSON_BODY) {
      this.overflowed = true;
    }
    if (this.overflowed && this.length > 2 * JSON_TAIL) {
      const kept = Buffer.concat(this.chunks).subarray(-JSON_TAIL);
      this.chunks = [kept];
      this.length = kept.length;
    }
  }

  end(): TokenUsage | undefined {
    const text = Buffer.concat(this.chunks).toString('utf8');
    this.chunks = [];
    return this.overflowed ? usageIn({ usage: parsed(lastUsageObject(text) ?? '') }) : usageIn(parsed(text));
  }
}

/** The text of the object after the last `"usage":` key, braces balanced outside strings. */
export function lastUsageObject(text: string): string | undefined {
  const match = [...text.matchAll(/"usage"\s*:\s*\{/g)].pop();
  if (!match) {
    return undefined;
  }
  const start = match.index + match[0].length - 1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') {
        i++;
      } else if (char === '"') {
        inString = false;
      }
    } else if (char === '"') {
      inString = true;
    } else if (char === '{') {
      depth++;
    } else if (char === '}' && --depth === 0) {
      return text.slice(start, i + 1);
    }
  }
  return undefined;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
