import type { ServerResponse } from 'node:http';

export type RefusalStatus = 400 | 401 | 403 | 404 | 405 | 413 | 502;

/**
 * Answers a request the proxy will not forward, in the shape API clients
 * show (`{"error":{"type","message"}}`), and closes the connection: a
 * refused request's body is not read.
 */
export function refuse(res: ServerResponse, status: RefusalStatus, message: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { type: 'gitiso_proxy_refused', message: `gitiso API proxy: ${message}` } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}
