import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdmissionError, checkAdmission, DEFAULT_LIMITS, formatBytes, parseMemory, validateLimits } from '../../src/core/limits/agentLimits';

const GB = 1024 ** 3;

describe('agent limits', () => {
  it('reads amounts of memory as people write them', () => {
    assert.equal(parseMemory('2g'), 2 * GB);
    assert.equal(parseMemory('512m'), 512 * 1024 ** 2);
    assert.equal(parseMemory('1.5GB'), 1.5 * GB);
    assert.equal(parseMemory('2GiB'), 2 * GB);
    assert.equal(parseMemory(String(GB)), GB);
    assert.throws(() => parseMemory('lots'), /not an amount of memory: write it like 2g/);
    assert.throws(() => parseMemory('1m'), /at least 64m/);
  });

  it('fills defaults and refuses limits nothing can run in', () => {
    assert.deepEqual(validateLimits({}), DEFAULT_LIMITS);
    assert.deepEqual(validateLimits({ cpus: 1 }), { ...DEFAULT_LIMITS, cpus: 1 });
    assert.throws(() => validateLimits({ cpus: 0 }), /at least 0.1 CPUs/);
    assert.throws(() => validateLimits({ pids: 3 }), /process limit of at least 16/);
  });

  it('admits what fits and refuses what does not, saying how much is reserved', () => {
    assert.doesNotThrow(() => checkAdmission({ count: 2, memoryBytes: 2 * GB, reservedBytes: 2 * GB, totalBytes: 8 * GB }));
    assert.throws(
      () => checkAdmission({ count: 3, memoryBytes: 2 * GB, reservedBytes: 5.1 * GB, totalBytes: 7.6 * GB }),
      (error: unknown) => error instanceof AdmissionError && /^3 agents of 2 GB do not fit: 5\.1 GB of 7\.6 GB already reserved/.test(error.message) && /--force/.test(error.message),
    );
    assert.throws(() => checkAdmission({ count: 1, memoryBytes: 9 * GB, reservedBytes: 0, totalBytes: 8 * GB }), /1 agent of 9 GB does not fit: 0 B of 8 GB/);
    assert.equal(formatBytes(512 * 1024 ** 2), '512 MB');
    assert.equal(formatBytes(1536), '2 KB');
    assert.equal(formatBytes(200), '200 B');
  });
});
