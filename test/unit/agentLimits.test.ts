import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../../src/core/errors';
import { MAX_CLONE_DEPTH } from '../../src/core/git/cloneArgs';
import { AdmissionError, checkAdmission, DEFAULT_LIMITS, formatBytes, LIMIT_RANGE, parseCpus, parseMemory, parsePids, validateLimits } from '../../src/core/limits/agentLimits';

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

  it('refuse limits too big to be meant, and garbage Number() would take', () => {
    assert.throws(() => parseMemory('2t'), /at most 1t/);
    assert.equal(parseMemory('1t'), 1024 ** 4);
    assert.throws(() => validateLimits({ cpus: 5000 }), /at most 1024 CPUs/);
    assert.throws(() => validateLimits({ cpus: Number.POSITIVE_INFINITY }), InvalidInputError);
    assert.throws(() => validateLimits({ pids: 10_000_000 }), /at most 65536/);
    assert.throws(() => validateLimits({ pids: 100.5 }), /whole number/);
    assert.equal(parseCpus('1.5'), 1.5);
    assert.equal(parsePids('64'), 64);
    for (const text of ['0x10', '1e3', 'Infinity', '', '2 cpus', '-1']) {
      assert.throws(() => parseCpus(text), /not a number of CPUs/, text);
    }
    for (const text of ['0x100', '1e3', '64.0', '', '-64']) {
      assert.throws(() => parsePids(text), /not a number of processes/, text);
    }
  });

  it('agree with the bounds package.json gives the settings', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { minimum?: number; maximum?: number; type?: string }> } } };
    const settings = pkg.contributes.configuration.properties;
    assert.deepEqual(pick(settings['gitiso.limits.cpus']), { minimum: LIMIT_RANGE.cpus.min, maximum: LIMIT_RANGE.cpus.max, type: 'number' });
    assert.deepEqual(pick(settings['gitiso.limits.pids']), { minimum: LIMIT_RANGE.pids.min, maximum: LIMIT_RANGE.pids.max, type: 'integer' });
    assert.deepEqual(pick(settings['gitiso.cloneDepth']), { minimum: 0, maximum: MAX_CLONE_DEPTH, type: 'integer' });
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

function pick(setting: { minimum?: number; maximum?: number; type?: string } | undefined) {
  return { minimum: setting?.minimum, maximum: setting?.maximum, type: setting?.type };
}
