import { InvalidInputError } from '../errors';

/**
 * The program a proxy relay runs in an agent's container (proxyRelay.ts): it
 * listens on 127.0.0.1:PORT there, in the agent's own network namespace, and
 * carries each connection to the host as frames on its stdout and stdin
 * (relayFrames.ts). The image is the user's, so gitiso brings nothing: it
 * uses python3, or node (which every npm-installed coding agent has). The
 * scripts are fixed; the port, a checked number, is the only value put in.
 */

/** Threads: one accepting, one per connection's bytes to the host; the main one applies the host's frames. */
const PYTHON_LISTENER = `
import os, socket, struct, sys, threading
lock = threading.Lock()
def send(kind, conn, data=b''):
    frame = struct.pack('>cII', kind, conn, len(data)) + data
    with lock:
        view = memoryview(frame)
        while view:
            view = view[os.write(1, view):]
conns = {}
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', int(sys.argv[1])))
server.listen(64)
def pump(conn, s):
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            send(b'D', conn, data)
        send(b'E', conn)
    except OSError:
        if conns.pop(conn, None) is not None:
            send(b'C', conn)
def accept():
    last = 0
    while True:
        s, _ = server.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        last += 1
        conns[last] = s
        send(b'O', last)
        threading.Thread(target=pump, args=(last, s), daemon=True).start()
threading.Thread(target=accept, daemon=True).start()
send(b'L', 0)
def read(size):
    data = b''
    while len(data) < size:
        chunk = os.read(0, size - len(data))
        if not chunk:
            os._exit(0)
        data += chunk
    return data
while True:
    kind, conn, size = struct.unpack('>cII', read(9))
    data = read(size) if size else b''
    s = conns.get(conn)
    if s is None:
        continue
    try:
        if kind == b'D':
            s.sendall(data)
        elif kind == b'E':
            s.shutdown(socket.SHUT_WR)
        elif kind == b'C':
            conns.pop(conn, None)
            s.shutdown(socket.SHUT_RDWR)
            s.close()
    except OSError:
        if conns.pop(conn, None) is not None:
            send(b'C', conn)
        s.close()
`;

const NODE_LISTENER = `
const net = require('net');
const conns = new Map();
let last = 0;
const send = (kind, id, data) => {
  const head = Buffer.alloc(9);
  head.write(kind, 0, 'latin1');
  head.writeUInt32BE(id, 1);
  head.writeUInt32BE(data ? data.length : 0, 5);
  process.stdout.write(data ? Buffer.concat([head, data]) : head);
};
const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  const id = ++last;
  conns.set(id, socket);
  send('O', id);
  socket.on('data', (data) => {
    for (let at = 0; at < data.length; at += 65536) send('D', id, data.subarray(at, at + 65536));
  });
  socket.on('end', () => conns.has(id) && send('E', id));
  socket.on('error', () => undefined);
  socket.on('close', () => conns.delete(id) && send('C', id));
});
server.on('error', () => process.exit(1));
server.listen(Number(process.argv[process.argv.length - 1]), '127.0.0.1', () => send('L', 0));
let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 9) {
    const size = pending.readUInt32BE(5);
    if (pending.length < 9 + size) break;
    const kind = String.fromCharCode(pending[0]);
    const id = pending.readUInt32BE(1);
    const socket = conns.get(id);
    const data = pending.subarray(9, 9 + size);
    pending = pending.subarray(9 + size);
    if (!socket) continue;
    if (kind === 'D') socket.write(data);
    else if (kind === 'E') socket.end();
    else if (kind === 'C') { conns.delete(id); socket.destroy(); }
  }
});
process.stdin.on('end', () => process.exit(0));
`;

/** The first of python3 and node the container has; with neither, one frame that says so ('N'). */
const CHOOSE = `if command -v python3 >/dev/null 2>&1; then exec python3 -c "$1" "$3"; fi
if command -v node >/dev/null 2>&1; then exec node -e "$2" "$3"; fi
printf 'N\\000\\000\\000\\000\\000\\000\\000\\000'`;

export type ListenerProgram = 'python3' | 'node';

/** The listener's command for a port in the agent; `only` forces one program (the tests run each). */
export function agentListenerArgv(port: number, only?: ListenerProgram): string[] {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidInputError(`${port} is not a TCP port`);
  }
  if (only === 'python3') {
    return ['python3', '-c', PYTHON_LISTENER, String(port)];
  }
  if (only === 'node') {
    return ['node', '-e', NODE_LISTENER, String(port)];
  }
  return ['sh', '-c', CHOOSE, 'gitiso-api-listener', PYTHON_LISTENER, NODE_LISTENER, String(port)];
}
