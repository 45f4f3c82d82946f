import { StringDecoder } from 'node:string_decoder';
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

/**
 * Server-sent events, split anywhere: lines are put together across chunks,
 * an event's data lines are joined at its blank line, and only data that
 * mentions "usage" is parsed.
 */
export class SseUsageScanner implements UsageScanner {
  private readonly decoder = new StringDecoder('utf8');
  private line = '';
  private data: string[] = [];
  private dataLength = 0;
  /** The rest of a line or an event past the bound is dropped. */
  private skippingLine = false;
  private skippingEvent = false;
  private usage: TokenUsage | undefined;

  push(chunk: Buffer): void {
    this.take(this.decoder.write(chunk));
  }

  end(): TokenUsage | undefined {
    this.take(this.decoder.end());
    if (this.line !== '' && !this.skippingLine) {
      this.onLine(this.line);
    }
    this.dispatch();
    return this.usage;
  }

  private take(text: string): void {
    let start = 0;
    for (let newline = text.indexOf('\n', start); newline >= 0; newline = text.indexOf('\n', start)) {
      const piece = text.slice(start, newline);
      if (!this.skippingLine) {
        this.onLine((this.line + piece).replace(/\r$/, ''));
      }
      this.line = '';
      this.skippingLine = false;
      start = newline + 1;
    }
    if (!this.skippingLine) {
      this.line += text.slice(start);
      if (this.line.length > MAX_SSE_EVENT) {
        this.line = '';
        this.skippingLine = true;
        this.skippingEvent = true;
      }
    }
  }

  private onLine(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (!line.startsWith('data:') || this.skippingEvent) {
      return;
    }
    const value = line.slice(line.startsWith('data: ') ? 6 : 5);
    this.dataLength += value.length + 1;
    if (this.dataLength > MAX_SSE_EVENT) {
      this.skippingEvent = true;
      this.data = [];
      return;
    }
    this.data.push(value);
  }

  private dispatch(): void {
    const data = this.data.join('\n');
    this.data = [];
    this.dataLength = 0;
    const skipped = this.skippingEvent;
    this.skippingEvent = false;
    if (!skipped && data.includes('"usage"')) {
      this.usage = mergedUsage(this.usage, usageIn(parsed(data)));
    }
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
