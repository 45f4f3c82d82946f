/** Opens a TCP connection from inside a container (python3 -c SCRIPT ADDRESS PORT); prints "open" or the reason it failed. Bounded by a 3 s timeout. */
export const TCP_PROBE_SCRIPT = 'import socket, sys\ntry:\n    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()\n    print("open")\nexcept OSError as error:\n    print("closed", error)\n    sys.exit(1)';
