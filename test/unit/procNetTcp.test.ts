import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListeningPorts } from '../../src/core/ports/procNetTcp';

// Read from a container running http.server on 0.0.0.0:3000, 127.0.0.1:4000 and [::]:5000, plus a connected socket and an IPv6 loopback listener.
const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0FA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 624860 1 00000000610f902b 100 0 0 10 0
   1: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 624857 1 000000001cf4cccf 100 0 0 10 0
   2: 020012AC:0BB8 010012AC:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 624999 1 00000000610f902b 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 623822 1 00000000bfa3e5d0 100 0 0 10 0
   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 623823 1 00000000bfa3e5d0 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 623824 1 00000000bfa3e5d0 100 0 0 10 0
`;

describe('listening ports from /proc/net/tcp and tcp6', () => {
  it('finds each listening port once, with its address and whether the host can reach it', () => {
    assert.deepEqual(parseListeningPorts(PROC_NET_TCP), [
      { port: 3000, address: '0.0.0.0', reachable: true },
      { port: 4000, address: '127.0.0.1', reachable: false },
      { port: 5000, address: '::', reachable: true },
      { port: 8080, address: '::1', reachable: false },
    ]);
  });

  it('ignores connected sockets, headers and junk', () => {
    assert.deepEqual(parseListeningPorts('garbage\n\n   5: zz:zz 0 0A\n'), []);
  });

  it('takes what an agent\'s `cat` prints as data: no port 0, no address that is neither IPv4 nor IPv6', () => {
    const forged = ['   0: 00000000:0000 00000000:0000 0A', '   1: 0000000:0BB8 00000000:0000 0A', '   2: 000000000000:0BB9 00000000:0000 0A', '   3: 00000000:0BBA 00000000:0000 0A'].join('\n');
    assert.deepEqual(parseListeningPorts(forged), [{ port: 3002, address: '0.0.0.0', reachable: true }]);
  });
});
