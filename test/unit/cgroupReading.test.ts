import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCgroupReading } from '../../src/core/stats/cgroupReading';
import { fromEngineStats } from '../../src/core/stats/statsSampler';

const NET = `==> /proc/net/dev <==
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     999       2    0    0    0     0          0         0      999       2    0    0    0     0       0          0
  eth0:    2000       2    0    0    0     0          0         0      300       3    0    0    0     0       0          0
`;

describe('cgroup readings', () => {
  it('reads cgroup v1 as head prints it (memory without the droppable page cache)', () => {
    const text = `==> /sys/fs/cgroup/cpuacct/cpuacct.usage <==
47842212

==> /sys/fs/cgroup/memory/memory.usage_in_bytes <==
10000000

==> /sys/fs/cgroup/memory/memory.limit_in_bytes <==
268435456

==> /sys/fs/cgroup/memory/memory.stat <==
cache 500000
total_inactive_file 400000

==> /sys/fs/cgroup/memory/memory.oom_control <==
oom_kill_disable 0
under_oom 0
oom_kill 2

==> /sys/fs/cgroup/pids/pids.current <==
3

==> /sys/fs/cgroup/blkio/blkio.throttle.io_service_bytes <==
8:0 Read 4096
8:0 Write 8192
8:0 Total 12288
Total 12288

${NET}`;
    assert.deepEqual(parseCgroupReading(text), {
      cpuNanos: 47842212, memoryBytes: 9_600_000, memoryLimitBytes: 268435456, pids: 3, oomKills: 2,
      netRxBytes: 2000, netTxBytes: 300, blockReadBytes: 4096, blockWriteBytes: 8192,
    });
  });

  it('reads cgroup v2, and an unlimited memory as no limit', () => {
    const text = `==> /sys/fs/cgroup/cpu.stat <==
usage_usec 1500
user_usec 1000

==> /sys/fs/cgroup/memory.current <==
5000000

==> /sys/fs/cgroup/memory.max <==
max

==> /sys/fs/cgroup/memory.stat <==
inactive_file 1000000

==> /sys/fs/cgroup/memory.events <==
oom 1
oom_kill 1

==> /sys/fs/cgroup/pids.current <==
7

==> /sys/fs/cgroup/io.stat <==
8:0 rbytes=100 wbytes=200 rios=1 wios=2

${NET}`;
    assert.deepEqual(parseCgroupReading(text), {
      cpuNanos: 1_500_000, memoryBytes: 4_000_000, memoryLimitBytes: undefined, pids: 7, oomKills: 1,
      netRxBytes: 2000, netTxBytes: 300, blockReadBytes: 100, blockWriteBytes: 200,
    });
    assert.equal(parseCgroupReading('head: cannot open: No such file'), undefined);
  });

  it('maps the engine\'s stats to the same shape', () => {
    const reading = fromEngineStats({
      cpu_stats: { cpu_usage: { total_usage: 42 } },
      memory_stats: { usage: 1000, limit: 4000, stats: { inactive_file: 100 } },
      pids_stats: { current: 4 },
      networks: { eth0: { rx_bytes: 10, tx_bytes: 20 } },
      blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 5 }, { op: 'write', value: 6 }] },
    });
    assert.deepEqual(reading, { cpuNanos: 42, memoryBytes: 900, memoryLimitBytes: 4000, pids: 4, oomKills: 0, netRxBytes: 10, netTxBytes: 20, blockReadBytes: 5, blockWriteBytes: 6 });
  });
});
