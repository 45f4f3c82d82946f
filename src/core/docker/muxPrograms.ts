import { InvalidInputError } from '../errors';

/**
 * The program a connection mux runs in an agent's container
 * (connectionMux.ts): many TCP connections on 127.0.0.1:PORT there, in the
 * agent's own network namespace, carried as frames (muxFrames.ts) on its
 * stdin and stdout. It listens (the agent's tool connecting to the host's API
 * proxy) or connects (a forward of the agent's port). The image is the
 * user's, so gitiso brings nothing: it uses python3, or node (which every
 * npm-installed coding agent has). The scripts are fixed; the mode and the
 * port, a checked number, are the only values put in.
 */
export type MuxMode = 'listen' | 'connect';
export type MuxProgram = 'python3' | 'node';

/** Threads: one accepting (listen), one per connection's bytes to the host; the main one applies the host's frames. */
const PYTHON_MUX = `
import os, socket, struct, sys, threading
mode, port = sys.argv[1], int(sys.argv[2])
lock = threading.Lock()
conns = {}
def send(kind, conn, data=b''):
    frame = struct.pack('>cII', kind, conn, len(data)) + data
    with lock:
        view = memoryview(frame)
        while view:
            view = view[os.write(1, view):]
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
def serve(conn, s, announce):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conns[conn] = s
    if announce:
        send(b'O', conn)
    threading.Thread(target=pump, args=(conn, s), daemon=True).start()
if mode == 'listen':
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(('127.0.0.1', port))
    server.listen(64)
    def accept():
        last = 0
        while True:
            s, _ = server.accept()
            last += 1
            serve(last, s, True)
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
    if kind == b'O' and mode == 'connect' and conn not in conns:
        try:
            serve(conn, socket.create_connection(('127.0.0.1', port)), False)
        except OSError:
            send(b'C', conn)
        continue
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

const NODE_MUX = `
const net = require('net');
const [mode, portText] = process.argv.slice(-2);
const port = Number(portText);
const conns = new Map();
const send = (kind, id, data) => {
  const head = Buffer.alloc(9);
  head.write(kind, 0, 'latin1');
  head.writeUInt32BE(id, 1);
  head.writeUInt32BE(data ? data.length : 0, 5);
  process.stdout.write(data ? Buffer.concat([head, data]) : head);
};
const serve = (id, socket, announce) => {
  conns.set(id, socket);
  if (announce) send('O', id);
  socket.on('data', (data) => {
    for (let at = 0; at < data.length; at += 65536) send('D', id, data.subarray(at, at + 65536));
  });
  socket.on('end', () => conns.has(id) && send('E', id));
  socket.on('error', () => undefined);
  socket.on('close', () => conns.delete(id) && send('C', id));
};
if (mode === 'listen') {
  let last = 0;
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => serve(++last, socket, true));
  server.on('error', () => process.exit(1));
  server.listen(port, '127.0.0.1', () => send('L', 0));
} else {
  send('L', 0);
}
let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 9) {
    const size = pending.readUInt32BE(5);
    if (pending.length < 9 + size) break;
    const kind = String.fromCharCode(pending[0]);
    const id = pending.readUInt32BE(1);
    const data = pending.subarray(9, 9 + size);
    pending = pending.subarray(9 + size);
    if (kind === 'O' && mode === 'connect' && !conns.has(id)) {
      serve(id, net.connect({ port, host: '127.0.0.1', allowHalfOpen: true, noDelay: true }), false);
      continue;
    }
    const socket = conns.get(id);
    if (!socket) continue;
    if (kind === 'D') socket.write(data);
    else if (kind === 'E') socket.end();
    else if (kind === 'C') { conns.delete(id); socket.destroy(); }
  }
});
process.stdin.on('end', () => process.exit(0));
`;

/** The first of python3 and node the container has; with neither, one frame that says so ('N'). */
const CHOOSE = `if command -v python3 >/dev/null 2>&1; then exec python3 -c "$1" "$3" "$4"; fi
if command -v node >/dev/null 2>&1; then exec node -e "$2" "$3" "$4"; fi
printf 'N\\000\\000\\000\\000\\000\\000\\000\\000'`;

/** The mux's command in the agent for a port; `only` forces one program (the tests run each). */
export function muxArgv(mode: MuxMode, port: number, only?: MuxProgram): string[] {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidInputError(`${port} is not a TCP port`);
  }
  if (only === 'python3') {
    return ['python3', '-c', PYTHON_MUX, mode, String(port)];
  }
  if (only === 'node') {
    return ['node', '-e', NODE_MUX, mode, String(port)];
  }
  return ['sh', '-c', CHOOSE, 'gitiso-mux', PYTHON_MUX, NODE_MUX, mode, String(port)];
}
