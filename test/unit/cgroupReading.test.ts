import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { filesIn, parseCgroupReading } from '../../src/core/stats/cgroupReading';
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

  describe('what an agent\'s `head` may print instead', () => {
    /** Parses in a worker, so a parser that loops forever fails the test instead of freezing it. */
    function parseAside(text: string): Promise<unknown> {
      const worker = new Worker(`const { parentPort, workerData } = require('node:worker_threads'); parentPort.postMessage(require(workerData.module).parseCgroupReading(workerData.text) ?? null);`, {
        eval: true,
        workerData: { module: require.resolve('../../src/core/stats/cgroupReading'), text },
      });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          void worker.terminate();
          reject(new Error('the parser did not return within 2 s'));
        }, 2_000);
        worker.once('message', (value: unknown) => {
          clearTimeout(timer);
          void worker.terminate();
          resolve(value);
        });
        worker.once('error', reject);
      });
    }

    it('returns, with nothing, for a header cut short after other text', async () => {
      assert.equal(await parseAside('x\n==> /sys/fs/cgroup/cpu.stat <=='), null);
      assert.equal(await parseAside('==> /sys/fs/cgroup/cpu.stat <=='), null);
      assert.equal(await parseAside('==> \n==> \n==>'), null);
    });

    it('names only files it reads itself, so no name of the agent\'s goes into the next command', () => {
      const text = '==> /etc/shadow <==\nx\n==> -c99999999 <==\ny\n==> /sys/fs/cgroup/cpu.stat <==\nusage_usec 1\n';
      assert.deepEqual(filesIn(text), ['/sys/fs/cgroup/cpu.stat']);
    });

    it('reads numbers it cannot use as none, so figures stay finite', () => {
      const text = `==> /sys/fs/cgroup/cpu.stat <==
usage_usec 1e400

==> /sys/fs/cgroup/memory.current <==
${'9'.repeat(400)}

==> /sys/fs/cgroup/io.stat <==
8:0 rbytes=${'9'.repeat(400)} wbytes=-5

==> /proc/net/dev <==
  eth0: x 1 2 3 4 5 6 7 -8
  eth1: ${'9'.repeat(400)} 0 0 0 0 0 0 0 1e999
`;
      const reading = parseCgroupReading(text);
      assert.ok(reading);
      for (const [name, value] of Object.entries(reading)) {
        assert.ok(value === undefined || (Number.isFinite(value) && value >= 0), `${name} is ${value}`);
      }
    });
  });
});
