import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { request, type Agent } from 'node:https';
import { pipeline } from 'node:stream';
import { describeCause } from '../errors';
import type { Logger } from '../logger';
import type { AgentUsageCounts } from './agentUsage';
import { responseHeaders } from './headerRewrite';
import { refuse } from './refusal';
import { usageScannerFor } from './usageScanner';

/** One request an agent may make, ready to go upstream. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly agentId: string;
  readonly url: URL;
  readonly headers: OutgoingHttpHeaders;
  /** Keeps upstream connections, and the certificate authorities they are checked against. */
  readonly tls: Agent;
  readonly counts: AgentUsageCounts;
  readonly maxRequestBytes: number;
  readonly log: Logger;
}

/**
 * Forwards one request and its response as their bytes come, without
 * holding them: the request body is piped (so the agent's writes wait for
 * upstream's reads), the response is piped back chunk by chunk (an SSE event
 * reaches the agent when upstream sends it), usage is counted as bytes pass,
 * and an agent that goes away ends the upstream request.
 */
export function forward(exchange: Exchange): void {
  const { req, res, agentId, url, counts, log } = exchange;
  const upstream = request(url, { method: req.method, headers: exchange.headers, agent: exchange.tls, rejectUnauthorized: true });
  upstream.on('socket', (socket) => socket.setNoDelay(true));
  let sent = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    sent += chunk.length;
    if (tooLarge) {
      return;
    }
    if (sent > exchange.maxRequestBytes) {
      tooLarge = true;
      req.unpipe(upstream);
      upstream.destroy();
      refuse(res, 413, `request bodies are limited to ${exchange.maxRequestBytes} bytes`);
      return;
    }
    counts.bytes(agentId, 'in', chunk.length);
  });
  req.pipe(upstream);
  // The agent went away (or its request was cut short): so does the upstream request.
  res.on('close', () => {
    if (!res.writableFinished) {
      upstream.destroy();
    }
  });
  upstream.on('error', (error) => {
    if (tooLarge) {
      return; // already answered
    }
    if (res.headersSent) {
      res.destroy();
    } else if (!res.destroyed) {
      log.warn(`API proxy: ${url.host} did not answer agent ${agentId}: ${describeCause(error)}`);
      refuse(res, 502, `the upstream did not answer: ${describeCause(error)}`);
    }
  });
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer.headers));
    res.flushHeaders();
    const scanner = usageScannerFor(answer.headers['content-type']);
    answer.on('data', (chunk: Buffer) => {
      counts.bytes(agentId, 'out', chunk.length);
      scanner?.push(chunk);
    });
    pipeline(answer, res, (error) => {
      const usage = scanner?.end();
      if (usage) {
        counts.tokens(agentId, usage);
      }
      if (error) {
        log.debug(`API proxy: a response to agent ${agentId} ended early: ${describeCause(error)}`);
      }
    });
  });
}
