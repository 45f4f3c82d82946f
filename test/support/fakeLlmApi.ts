import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCertificates } from './testCertificates';

/** What a test asks the fake API to answer: the usage it reports, and for a stream, how many pieces and how far apart. */
export interface FakeAsk {
  readonly input?: number;
  readonly output?: number;
  readonly stream?: boolean;
  readonly pieces?: number;
  readonly delayMs?: number;
}

/** One request the fake API took. */
export interface SeenRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Whether it carried the real key, where this API wants it. */
  readonly keyed: boolean;
  /** The usage it reported (not for refused ones). */
  readonly reported?: { readonly input: number; readonly output: number };
  /** Set when the caller went away before the answer ended. */
  closedEarly: boolean;
}

/**
 * An LLM-style HTTPS API with a test certificate: Anthropic's messages at
 * /anthropic/v1/messages (key in x-api-key) and OpenAI's chat completions at
 * /openai/v1/chat/completions (key as a Bearer), each answering a `usage`
 * block, as JSON or as server-sent events sent in pieces with delays. A
 * request without the real key is answered 401 and still recorded.
 */
export class FakeLlmApi {
  readonly seen: SeenRequest[] = [];
  private readonly server: Server;

  private constructor(private readonly key: string, certificates: TestCertificates) {
    this.server = createServer({ key: certificates.serverKey, cert: certificates.serverCert }, (req, res) => {
      // A caller cut off mid-body (the proxy refusing a large one) is not a failure of the fake.
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  static async start(key: string, certificates: TestCertificates): Promise<FakeLlmApi> {
    const api = new FakeLlmApi(key, certificates);
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    return `https://localhost:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) {
      body += String(chunk);
    }
    const path = req.url ?? '';
    const openai = path.startsWith('/openai/');
    const keyed = openai ? req.headers.authorization === `Bearer ${this.key}` : req.headers['x-api-key'] === this.key;
    const seen: SeenRequest = { path, headers: req.headers, keyed, closedEarly: false };
    this.seen.push(seen);
    res.on('close', () => (seen.closedEarly = !res.writableFinished));
    if (!keyed) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad key"}');
      return;
    }
    if (path !== '/anthropic/v1/messages' && path !== '/openai/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const ask = parsedAsk(body);
    const reported = { input: ask.input ?? 10, output: ask.output ?? 20 };
    Object.assign(seen, { reported });
    if (!ask.stream) {
      const usage = openai ? { prompt_tokens: reported.input, completion_tokens: reported.output } : { input_tokens: reported.input, output_tokens: reported.output };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'r1', content: [{ type: 'text', text: 'hello' }], usage }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const events = openai ? openAiEvents(reported, ask.pieces ?? 5) : anthropicEvents(reported, ask.pieces ?? 5);
    for (const event of events) {
      if (res.destroyed) {
        return;
      }
      res.write(event);
      await new Promise((resolve) => setTimeout(resolve, ask.delayMs ?? 200));
    }
    res.end();
  }
}

function parsedAsk(body: string): FakeAsk {
  try {
    return JSON.parse(body) as FakeAsk;
  } catch {
    return {};
  }
}

function anthropicEvents(reported: { input: number; output: number }, pieces: number): string[] {
  const event = (type: string, data: unknown): string => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  return [
    event('message_start', { type: 'message_start', message: { id: 'm1', usage: { input_tokens: reported.input, output_tokens: 1 } } }),
    ...Array.from({ length: pieces }, (_, i) => event('content_block_delta', { type: 'content_block_delta', delta: { type: 'text_delta', text: `piece ${i} ` } })),
    event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: reported.output } }),
    event('message_stop', { type: 'message_stop' }),
  ];
}

function openAiEvents(reported: { input: number; output: number }, pieces: number): string[] {
  const data = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`;
  return [
    ...Array.from({ length: pieces }, (_, i) => data({ id: 'c1', choices: [{ delta: { content: `piece ${i} ` } }], usage: null })),
    data({ id: 'c1', choices: [], usage: { prompt_tokens: reported.input, completion_tokens: reported.output } }),
    'data: [DONE]\n\n',
  ];
}
