import { InvalidInputError } from '../errors';

/**
 * The programs an agent's container may have that can relay a forwarded
 * connection to 127.0.0.1:PORT inside it (stdin to the port, the port to
 * stdout), in order of preference. The image is the user's choice, so gitiso
 * brings none: it uses the first one the container has. Each is an argument
 * array with fixed scripts; the port, a validated number, is the only value
 * put in, as an argument of its own.
 */
export type RelayProgramName = 'socat' | 'bash' | 'python3' | 'perl' | 'node' | 'nc';

export interface RelayProgram {
  readonly name: RelayProgramName;
  /** Whether it passes a client's half-close on (the server sees the end and still answers); when not, the client's end ends the connection. */
  readonly halfClose: boolean;
  argv(port: number): string[];
  /** Other commands it needs. */
  readonly needs?: readonly string[];
}

/**
 * The byte the host writes first on a relay's stdin to have it connect. A
 * relay is started ahead of its connection (warmRelays.ts), its interpreter
 * loaded, and until then must not touch the agent's port (a dev server would
 * see idle connections, and its restart would end them). Each program reads
 * exactly this byte, then connects; stdin's end before it: it exits unconnected.
 */
export const GO_BYTE = Buffer.from('\n');

/** A shell's `read` takes a pipe one byte at a time, up to the newline: exactly the go byte, the rest left on stdin. */
const AWAIT_GO = 'IFS= read -r _ || exit 0';

/** For programs that cannot wait themselves (socat, nc): a shell waits, then becomes the program. */
const SHELL_AWAITING_GO = `${AWAIT_GO}\nexec "$@"`;

/** Reads the connection's bytes to stdout; the server's end ends the relay (helpers too: they share its process group). */
const BASH_RELAY = `${AWAIT_GO}\nexec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1\ncat <&0 >&3 &\ncat <&3\nkill $! 2>/dev/null`;

/** Two directions on two threads: stdin's end becomes the socket's half-close; the socket's end ends the relay. */
const PYTHON_RELAY = `
import os, socket, sys, threading
if not os.read(0, 1):
    os._exit(0)
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def up():
    try:
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        os._exit(0)
threading.Thread(target=up, daemon=True).start()
while True:
    data = s.recv(65536)
    if not data:
        break
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]
os._exit(0)
`;

const PERL_RELAY = `
use strict; use IO::Socket::INET; use Socket qw(IPPROTO_TCP TCP_NODELAY);
sysread(STDIN, my $go, 1) or exit 0;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ARGV[0], Proto => 'tcp') or exit 1;
setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
sub copy { my ($from, $to) = @_; my $buf;
  while (my $n = sysread($from, $buf, 65536)) { my $off = 0;
    while ($off < $n) { my $w = syswrite($to, $buf, $n - $off, $off); return unless defined $w; $off += $w; } } }
my $pid = fork(); exit 1 unless defined $pid;
if ($pid == 0) { copy(\\*STDIN, $s); shutdown($s, 1); exit 0; }
copy($s, \\*STDOUT); kill 'TERM', $pid; exit 0;
`;

/** Takes the go byte off stdin's buffer (the rest of that chunk stays there for the pipe), then connects. */
const NODE_RELAY = `
let started = false;
process.stdin.on('end', () => started || process.exit(0));
function awaitGo() {
  if (process.stdin.read(1) === null) {
    process.stdin.once('readable', awaitGo);
    return;
  }
  started = true;
  const s = require('net').connect({ host: '127.0.0.1', port: Number(process.argv[1]), allowHalfOpen: true, noDelay: true });
  s.on('error', () => process.exit(1));
  process.stdin.pipe(s);
  s.pipe(process.stdout, { end: false });
  s.on('end', () => process.stdout.write('', () => process.exit(0)));
}
awaitGo();
`;

export const RELAY_PROGRAMS: readonly RelayProgram[] = [
  // -t 0: the server's end ends it at once (a client's end too: it cannot pass a half-close and still wait for the answer).
  { name: 'socat', halfClose: false, argv: (port) => ['sh', '-c', SHELL_AWAITING_GO, 'gitiso-relay', 'socat', '-t', '0', '-', `TCP:127.0.0.1:${port}`] },
  { name: 'bash', halfClose: false, needs: ['cat'], argv: (port) => ['bash', '-c', BASH_RELAY, 'gitiso-relay', String(port)] },
  { name: 'python3', halfClose: true, argv: (port) => ['python3', '-c', PYTHON_RELAY, String(port)] },
  { name: 'perl', halfClose: true, argv: (port) => ['perl', '-e', PERL_RELAY, String(port)] },
  { name: 'node', halfClose: true, argv: (port) => ['node', '-e', NODE_RELAY, String(port)] },
  { name: 'nc', halfClose: false, argv: (port) => ['sh', '-c', SHELL_AWAITING_GO, 'gitiso-relay', 'nc', '127.0.0.1', String(port)] },
];

/** What the probe asks the container: which of the programs (and what they need) its PATH has, one name a line. */
export const RELAY_PROBE = ['sh', '-c', 'for p in "$@"; do command -v "$p" >/dev/null 2>&1 && echo "$p"; done', 'gitiso-probe', ...new Set(RELAY_PROGRAMS.flatMap((program) => [program.name, ...(program.needs ?? [])]))];

/** The names the probe printed, one a line; a line that is not a name asked for is the container's noise, and matches none. */
export function probedNames(probeOutput: string): ReadonlySet<string> {
  return new Set(probeOutput.split('\n').map((line) => line.trim()));
}

/** The first program the probe found (with what it needs). */
export function chooseRelayProgram(probeOutput: string): RelayProgram | undefined {
  const found = probedNames(probeOutput);
  return RELAY_PROGRAMS.find((program) => found.has(program.name) && (program.needs ?? []).every((need) => found.has(need)));
}

/** The relay's command for a port: refused unless the port is a TCP port number. */
export function relayArgv(program: RelayProgram, port: number): string[] {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidInputError(`${port} is not a TCP port`);
  }
  return program.argv(port);
}

/** What the user reads when the container has none of them. */
export function noRelayProgramMessage(agentId: string, port: number): string {
  return `agent '${agentId}' runs on an engine whose containers this machine cannot reach, and its image has no program to relay port ${port} through the engine: install socat in the image (or bash with cat, python3, perl, node or nc)`;
}
