import { connect } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Where a forward sends each connection it accepts: something that opens a
 * byte stream to the agent's port.
 */
export type ForwardTarget =
  /** The container's address, when this machine reaches it (a local Linux engine's bridge). */
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  /** A unix socket on this machine that leads to the port (the end of a tunnel). */
  | { readonly kind: 'socket'; readonly path: string }
  /** A stream gitiso opens through the engine itself (an exec that relays inside the container), for engines whose containers this machine cannot reach. */
  | {
      readonly kind: 'exec';
      readonly describe: string;
      open(): Duplex;
      /** Ends what it keeps for its connections: warm relays (open connections go on), or the mux (they end with it: the forward has closed them). */
      close(): void;
    };

/** A new stream to the target, at once (its connecting goes on behind it; a failure is its 'error'). Both sides may half-close. */
export function openTarget(target: ForwardTarget): Duplex {
  switch (target.kind) {
    case 'tcp':
      return connect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true });
    case 'socket':
      return connect({ path: target.path, allowHalfOpen: true });
    case 'exec':
      return target.open();
  }
}

/** Done with the target, once its forward closed: what it keeps ends. */
export function closeTarget(target: ForwardTarget): void {
  if (target.kind === 'exec') {
    target.close();
  }
}

/** For the log. */
export function describeTarget(target: ForwardTarget): string {
  switch (target.kind) {
    case 'tcp':
      return `${target.host}:${target.port}`;
    case 'socket':
      return target.path;
    case 'exec':
      return target.describe;
  }
}
