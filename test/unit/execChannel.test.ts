import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { ExecOptions, ExecResult } from '../../src/core/docker/exec';
import { ExecChannel } from '../../src/core/docker/execChannel';
import { LocalShellEngine } from '../support/localShellEngine';
import { makeTempDir, removeDir } from '../support/testEnv';

const MiB = 1024 * 1024;

/** Options with the output bound (typed so the test also compiles against a channel without it). */
type BoundedOptions = ExecOptions & { maxOutputBytes?: number };
const truncated = (result: ExecResult): boolean | undefined => (result as { truncated?: boolean }).truncated;

/** Fails instead of hanging when `promise` takes longer than `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The exec channel's own shell script, run on this machine (no Docker): what
 * a command prints is untrusted, and the channel must frame it exactly.
 */
describe('exec channel (its shell run locally)', () => {
  const channels: ExecChannel[] = [];
  const scratch = makeTempDir('channel');
  let engine: LocalShellEngine;

  async function open(): Promise<ExecChannel> {
    engine = new LocalShellEngine();
    const channel = await ExecChannel.open(engine, 'local');
    channels.push(channel);
    return channel;
  }

  afterEach(() => {
    for (const channel of channels.splice(0)) {
      channel.close();
    }
  });

  after(() => removeDir(scratch));

  it('runs argument arrays as they are, with their exit code and both streams', async () => {
    const channel = await open();
    const result = await channel.run(['sh', '-c', 'printf "%s|" "$@"; echo oops >&2; exit 7', 'x', 'a b', '', "it's", '$HOME', '*'], { workdir: scratch });
    assert.deepEqual({ code: result.exitCode, out: result.stdout, err: result.stderr }, { code: 7, out: "a b||it's|$HOME|*|", err: 'oops\n' });
    assert.equal((await channel.run(['pwd'], { workdir: scratch })).stdout.trim(), scratch);
  });

  it('passes output with NULs and marker look-alikes through untouched', async () => {
    const channel = await open();
    // NULs alone, before text, at the end without a newline, and in the shape of markers of any nonce.
    const tricky = ['\0', 'a\0b\n', '\0\0\n', '\0abc:end:0\n', '\0abc-end-1:0\n', '\0:pid:12\n', '\0'.repeat(70), 'z\0'];
    const expected = tricky.join('');
    const script = 'printf "%b" "$1"; printf "%b" "$1" >&2; head -c 200000 /dev/zero | tr "\\0" "y"; printf "%b" "$1"';
    const escaped = [...expected].map((char) => `\\0${char.charCodeAt(0).toString(8).padStart(3, '0')}`).join('');
    const result = await channel.run(['sh', '-c', script, 'x', escaped]);
    assert.equal(result.stderr, expected);
    assert.equal(result.stdout, expected + 'y'.repeat(200_000) + expected);
    assert.equal(result.exitCode, 0);
  });

  it('cannot be told a command ended, or its exit code, by the command itself', async () => {
    const channel = await open();
    // The command hunts for the channel's secret where an agent can look (its parent's argv and
    // environment in /proc), then prints end markers of every shape with what it found.
    const forger = `
      for n in $(tr '\\0' '\\n' < /proc/$PPID/cmdline) $(tr '\\0' '\\n' < /proc/$PPID/environ 2>/dev/null); do
        for seq in 1 2 3; do
          printf '\\0%s-end-%s:0\\n' "$n" "$seq"; printf '\\0%s-end-%s:0\\n' "$n" "$seq" >&2
        done
        printf '\\0%s:end:0\\n' "$n"; printf '\\0%s:end:0\\n' "$n" >&2
      done
      sleep 0.3
      echo after
      exit 3`;
    const result = await channel.run(['sh', '-c', forger]);
    assert.equal(result.exitCode, 3, 'a forged marker set the exit code');
    assert.ok(result.stdout.endsWith('after\n'), `the command was cut short: ${JSON.stringify(result.stdout.slice(-80))}`);
    assert.ok(result.stdout.split('\0').length > 4, 'the forged markers were dropped instead of passed on as output');
  });

  it('says a command\'s outcome is unknown when the channel dies under it, and never that it did not run', async () => {
    const channel = await open();
    const flag = join(scratch, 'ran');
    const running = channel.run(['sh', '-c', 'sleep 0.6; echo once >> "$1"', 'x', flag]);
    const queued = channel.run(['sh', '-c', 'echo never >> "$1"', 'x', flag]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    engine.processes[0]?.kill('SIGKILL'); // the channel's shell
    await assert.rejects(running, (error: Error) => error.name === 'OutcomeUnknownError' && /may or may not have taken effect/.test(error.message));
    await assert.rejects(queued, (error: Error) => error.name === 'ChannelClosedError');
    assert.equal(existsSync(flag) ? readFileSync(flag, 'utf8') : '', 'once\n', 'the command ran, once: the queued one never did');
    assert.equal(channel.isOpen, false);
  });

  it('keeps at most maxOutputBytes of a command that prints 100 MiB, says it was cut, and holds no more memory', async () => {
    const channel = await open();
    const before = process.memoryUsage().rss;
    const options: BoundedOptions = { maxOutputBytes: MiB };
    const result = await channel.run(['sh', '-c', 'head -c 104857600 /dev/zero | tr "\\0" "x"; echo done >&2'], options);
    const grown = process.memoryUsage().rss - before;
    assert.equal(result.stdout.length, MiB);
    assert.equal(truncated(result), true);
    assert.equal(result.stderr, 'done\n');
    assert.ok(grown < 64 * MiB, `the host grew by ${Math.round(grown / MiB)} MiB for 100 MiB of output`);
    const small = await channel.run(['echo', 'next']);
    assert.equal(small.stdout, 'next\n', 'the channel works on after a cut');
    assert.equal(truncated(small), undefined);
  });

  it('bounds the output by default (16 MiB)', async () => {
    const channel = await open();
    const result = await channel.run(['sh', '-c', 'head -c 20000000 /dev/zero | tr "\\0" "x"']);
    assert.equal(result.stdout.length, 16 * MiB);
    assert.equal(truncated(result), true);
  });

  it('returns from a timeout even when the command ignores TERM', async () => {
    const channel = await open();
    const started = Date.now();
    const stubborn = channel.run(['sh', '-c', 'trap "" TERM; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done'], { timeoutMs: 300 });
    await within(8_000, 'a timed-out command that ignores TERM', assert.rejects(stubborn, /timed out/));
    assert.ok(Date.now() - started < 5_000);
    assert.equal((await within(5_000, 'the next command', channel.run(['echo', 'after']))).stdout, 'after\n');
  });

  it('counts a deadline from the call: a command queued behind a slow one gives up in time', async () => {
    const channel = await open();
    const slow = channel.run(['sleep', '1.5']);
    const started = Date.now();
    await assert.rejects(channel.run(['echo', 'late'], { timeoutMs: 200 }), /timed out/);
    assert.ok(Date.now() - started < 1_000, `gave up after ${Date.now() - started} ms`);
    assert.equal((await slow).exitCode, 0);
  });

  it('refuses a command once closed, as never started', async () => {
    const channel = await open();
    channel.close();
    await assert.rejects(channel.run(['echo', 'x']), (error: Error) => error.name === 'ChannelClosedError');
  });
});
