import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { percentile, type Endpoint } from './httpLoad';

export interface EchoFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const MESSAGE = 'x'.repeat(64);

/** Round trips of a small WebSocket message, one after another, over one connection (as hot reload uses it). */
export async function measureEcho(endpoint: Endpoint, messages: number): Promise<EchoFigures> {
  const socket = new WebSocket(`ws://${endpoint.host}:${endpoint.port}/`, { perMessageDeflate: false, handshakeTimeout: 5_000 });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const roundTrips: number[] = [];
    for (let i = 0; i < messages; i++) {
      const sent = performance.now();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5_000);
        socket.once('message', (data) => {
          clearTimeout(timer);
          return String(data) === MESSAGE ? resolve() : reject(new Error('the echo differed'));
        });
        socket.send(MESSAGE);
      });
      roundTrips.push(performance.now() - sent);
    }
    roundTrips.sort((a, b) => a - b);
    return { p50Ms: percentile(roundTrips, 0.5), p99Ms: percentile(roundTrips, 0.99) };
  } finally {
    socket.terminate();
  }
}
