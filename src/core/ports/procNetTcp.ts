/** A TCP port something in a container listens on, as /proc/net/tcp{,6} tells it. */
export interface ListeningPort {
  readonly port: number;
  /** The local address, as text: 0.0.0.0, 127.0.0.1, ::, ::1, … */
  readonly address: string;
  /** Bound to every address (not only loopback), so it can be reached at the container's own address. */
  readonly reachable: boolean;
}

const LISTEN = '0A';

/**
 * Reads the listening sockets from the text of /proc/net/tcp and /proc/net/tcp6
 * (as VS Code's remote port detection does: no netstat needed in the image).
 * Each port once, the most reachable binding first.
 */
export function parseListeningPorts(text: string): ListeningPort[] {
  const byPort = new Map<number, ListeningPort>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (!local || fields[3] !== LISTEN || !/^[0-9A-F]+:[0-9A-F]{4}$/i.test(local)) {
      continue;
    }
    const [hexAddress = '', hexPort = ''] = local.split(':');
    const port = parseInt(hexPort, 16);
    // The text may be anything the agent printed: only IPv4 and IPv6 addresses, and ports that exist.
    if (port === 0 || (hexAddress.length !== 8 && hexAddress.length !== 32)) {
      continue;
    }
    const address = hexAddress.length === 8 ? ipv4(hexAddress) : ipv6(hexAddress);
    const reachable = !address.startsWith('127.') && address !== '::1';
    const known = byPort.get(port);
    if (!known || (!known.reachable && reachable)) {
      byPort.set(port, { port, address, reachable });
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

/** /proc prints IPv4 addresses as one little-endian 32-bit word. */
function ipv4(hex: string): string {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return bytes.reverse().join('.');
}

/** IPv6 addresses are four little-endian 32-bit words. */
function ipv6(hex: string): string {
  const groups: string[] = [];
  for (let word = 0; word < 4; word++) {
    const bytes = [0, 2, 4, 6].map((i) => hex.slice(word * 8 + i, word * 8 + i + 2)).reverse();
    groups.push(`${bytes[0]}${bytes[1]}`, `${bytes[2]}${bytes[3]}`);
  }
  const full = groups.map((group) => parseInt(group, 16).toString(16)).join(':');
  if (full === '0:0:0:0:0:0:0:0') {
    return '::';
  }
  if (full === '0:0:0:0:0:0:0:1') {
    return '::1';
  }
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(full);
  if (mapped?.[1] && mapped[2]) {
    const high = parseInt(mapped[1], 16);
    const low = parseInt(mapped[2], 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  return full;
}
