/**
 * One reading of an agent's own accounting, from inside it: its cgroup files
 * (v1 or v2, whichever the engine uses) and its network namespace's
 * /proc/net/dev. Read with one `head` of every file (one process, no shell):
 * head names each file before its content, and skips the ones that are missing.
 */
export const CGROUP_FILES = [
  // cgroup v1
  '/sys/fs/cgroup/cpuacct/cpuacct.usage',
  '/sys/fs/cgroup/memory/memory.usage_in_bytes',
  '/sys/fs/cgroup/memory/memory.limit_in_bytes',
  '/sys/fs/cgroup/memory/memory.stat',
  '/sys/fs/cgroup/memory/memory.oom_control',
  '/sys/fs/cgroup/pids/pids.current',
  '/sys/fs/cgroup/blkio/blkio.throttle.io_service_bytes',
  // cgroup v2
  '/sys/fs/cgroup/cpu.stat',
  '/sys/fs/cgroup/memory.current',
  '/sys/fs/cgroup/memory.max',
  '/sys/fs/cgroup/memory.stat',
  '/sys/fs/cgroup/memory.events',
  '/sys/fs/cgroup/pids.current',
  '/sys/fs/cgroup/io.stat',
  // the agent's own network namespace
  '/proc/net/dev',
];

export const READ_COMMAND = readCommand(CGROUP_FILES);

/** The command that reads these files (after a first reading, only those the agent has: no error output, fewer opens). */
export function readCommand(files: readonly string[]): string[] {
  return ['head', '-n', '100', ...files];
}

/**
 * The files a reading found (the headers head printed). Only files of
 * CGROUP_FILES count: what `head` prints is the agent's to forge, and no name
 * of its choosing may go into a later command.
 */
export function filesIn(text: string): string[] {
  const found = new Set(sections(text).keys());
  return CGROUP_FILES.filter((file) => found.has(file));
}

export interface CgroupReading {
  /** CPU time used since the container started, in nanoseconds. */
  readonly cpuNanos: number;
  /** Memory in use, without the page cache the kernel can drop (as `docker stats` counts it). */
  readonly memoryBytes: number;
  /** The memory limit; undefined when there is none. */
  readonly memoryLimitBytes?: number;
  readonly pids: number;
  /** Processes the kernel killed for want of memory, since the container started. */
  readonly oomKills: number;
  readonly netRxBytes: number;
  readonly netTxBytes: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
}

/** Limits above this are "no limit" (cgroup v1 writes a page-rounded 2^63). */
const UNLIMITED = 2 ** 60;

/**
 * The text after each `==> file <==` header line, by file (one pass, no
 * regular expressions: it runs for every agent every tick). Every step moves
 * forward, whatever the text: it comes from the agent.
 */
function sections(text: string): Map<string, string> {
  const files = new Map<string, string>();
  const first = text.startsWith('==> ') ? 0 : text.indexOf('\n==> ');
  let at = first > 0 ? first + 1 : first;
  while (at >= 0) {
    const lineEnd = text.indexOf('\n', at);
    if (lineEnd < 0) {
      break; // a header and no body
    }
    const header = text.slice(at, lineEnd);
    const next = text.indexOf('\n==> ', lineEnd);
    if (header.endsWith(' <==')) {
      files.set(header.slice(4, -4), text.slice(lineEnd + 1, next < 0 ? text.length : next));
    }
    at = next < 0 ? -1 : next + 1;
  }
  return files;
}

/** A count read from the agent: a number from 0 to 2^53, else 0 (so sums of them stay finite). */
function count(value: number): number {
  return value > 0 && value <= Number.MAX_SAFE_INTEGER ? value : 0;
}

/** `key value` lines (memory.stat, cpu.stat, memory.oom_control, memory.events). */
function keyed(text: string | undefined): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) {
      const value = Number(line.slice(space + 1));
      if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
        values.set(line.slice(0, space), value);
      }
    }
  }
  return values;
}

function number(text: string | undefined): number | undefined {
  const value = text?.trim();
  return value && /^\d{1,20}$/.test(value) ? Number(value) : undefined;
}

function network(text: string | undefined): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of (text ?? '').split('\n')) {
    const match = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!match || match[1] === 'lo') {
      continue;
    }
    const fields = (match[2] ?? '').trim().split(/\s+/).map(Number);
    rx += count(fields[0] ?? 0);
    tx += count(fields[8] ?? 0);
  }
  return { rx, tx };
}

/** blkio.throttle.io_service_bytes ("8:0 Read 123") or io.stat ("8:0 rbytes=123 wbytes=456 …"). */
function blockIo(v1: string | undefined, v2: string | undefined): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of (v1 ?? '').split('\n')) {
    const [device, op, value] = line.trim().split(/\s+/);
    if (device && device !== 'Total' && value) {
      read += op === 'Read' ? count(Number(value)) : 0;
      write += op === 'Write' ? count(Number(value)) : 0;
    }
  }
  for (const line of (v2 ?? '').split('\n')) {
    read += count(Number(/\brbytes=(\d+)/.exec(line)?.[1] ?? 0));
    write += count(Number(/\bwbytes=(\d+)/.exec(line)?.[1] ?? 0));
  }
  return { read, write };
}

/** Parses the output of READ_COMMAND; undefined when it holds no cgroup at all. */
export function parseCgroupReading(text: string): CgroupReading | undefined {
  const files = sections(text);
  const at = (name: string): string | undefined => files.get(name);
  const v1 = at('/sys/fs/cgroup/cpuacct/cpuacct.usage') !== undefined;
  const v2 = at('/sys/fs/cgroup/cpu.stat') !== undefined;
  if (!v1 && !v2) {
    return undefined;
  }
  const net = network(at('/proc/net/dev'));
  const io = blockIo(at('/sys/fs/cgroup/blkio/blkio.throttle.io_service_bytes'), at('/sys/fs/cgroup/io.stat'));
  if (v1) {
    const stat = keyed(at('/sys/fs/cgroup/memory/memory.stat'));
    const usage = number(at('/sys/fs/cgroup/memory/memory.usage_in_bytes')) ?? 0;
    const limit = number(at('/sys/fs/cgroup/memory/memory.limit_in_bytes'));
    return {
      cpuNanos: number(at('/sys/fs/cgroup/cpuacct/cpuacct.usage')) ?? 0,
      memoryBytes: Math.max(0, usage - (stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0)),
      memoryLimitBytes: limit !== undefined && limit < UNLIMITED ? limit : undefined,
      pids: number(at('/sys/fs/cgroup/pids/pids.current')) ?? 0,
      oomKills: keyed(at('/sys/fs/cgroup/memory/memory.oom_control')).get('oom_kill') ?? 0,
      netRxBytes: net.rx,
      netTxBytes: net.tx,
      blockReadBytes: io.read,
      blockWriteBytes: io.write,
    };
  }
  const stat = keyed(at('/sys/fs/cgroup/memory.stat'));
  const usage = number(at('/sys/fs/cgroup/memory.current')) ?? 0;
  const limit = number(at('/sys/fs/cgroup/memory.max'));
  return {
    cpuNanos: (keyed(at('/sys/fs/cgroup/cpu.stat')).get('usage_usec') ?? 0) * 1000,
    memoryBytes: Math.max(0, usage - (stat.get('inactive_file') ?? 0)),
    memoryLimitBytes: limit !== undefined && limit < UNLIMITED ? limit : undefined,
    pids: number(at('/sys/fs/cgroup/pids.current')) ?? 0,
    oomKills: keyed(at('/sys/fs/cgroup/memory.events')).get('oom_kill') ?? 0,
    netRxBytes: net.rx,
    netTxBytes: net.tx,
    blockReadBytes: io.read,
    blockWriteBytes: io.write,
  };
}
