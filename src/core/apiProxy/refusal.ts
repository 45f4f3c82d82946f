import type { ServerResponse } from 'node:http';

export type RefusalStatus = 400 | 401 | 403 | 404 | 405 | 413 | 502;

/**
 * A refused request's body is read and dropped up to this many bytes, so a
 * client that sends its whole body before reading (most do) gets the answer
 * rather than a broken pipe; past it the connection is cut.
 */
export const DRAIN_BYTES = 8 * 1024 * 1024;

/**
 * Answers a request the proxy will not forward, in the shape API clients
 * show (`{"error":{"type","message"}}`).
 */
export function refuse(res: ServerResponse, status: RefusalStatus, message: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const req = res.req;
  const declared = Number(req.headers['content-length'] ?? 0);
  const drain = !req.complete && Number.isFinite(declared) && declared <= DRAIN_BYTES;
  const body = JSON.stringify({ error: { type: 'gitiso_proxy_refused', message: `gitiso API proxy: ${message}` } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(drain || req.complete ? {} : { connection: 'close' }) });
  res.end(body);
  if (drain) {
    let dropped = 0;
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > DRAIN_BYTES) {
        req.socket.destroy();
      }
    });
    req.resume();
  }
}
