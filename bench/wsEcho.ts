import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { latencyFigures, type Endpoint, type LatencyFigures } from './httpLoad';

const MESSAGE = 'x'.repeat(64);

/**
 * Round trips of a small WebSocket message (as hot reload sends), one at a
 * time over one connection per endpoint, taking the endpoints in turn
 * (`messages` each), so a drift of the machine's load reaches all alike.
 */
export async function measureEchoes(endpoints: readonly Endpoint[], messages: number): Promise<LatencyFigures[]> {
  const sockets = endpoints.map((endpoint) => new WebSocket(`ws://${endpoint.host}:${endpoint.port}/`, { perMessageDeflate: false, handshakeTimeout: 5_000 }));
  const roundTrips = endpoints.map((): number[] => []);
  try {
    await Promise.all(sockets.map((socket) => new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    })));
    for (let i = 0; i < messages; i++) {
      for (const [index, socket] of sockets.entries()) {
        const sent = performance.now();
        await echo(socket);
        roundTrips[index]?.push(performance.now() - sent);
      }
    }
  } finally {
    sockets.forEach((socket) => socket.terminate());
  }
  return roundTrips.map(latencyFigures);
}

function echo(socket: WebSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5_000);
    socket.once('message', (data) => {
      clearTimeout(timer);
      return String(data) === MESSAGE ? resolve() : reject(new Error('the echo differed'));
    });
    socket.send(MESSAGE);
  });
}
