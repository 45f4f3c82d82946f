import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportSteps } from '../../src/core/snapshot/buildSteps';

describe("a build script's step lines", () => {
  it('times each step from the line before it, and ignores every other line', () => {
    const told: [string, number][] = [];
    const sum = reportSteps(['gitiso-step 1000000000000 start', 'noise', 'gitiso-step 1000250000000 objects in place', 'gitiso-step 1001250000000 checkout', 'gitiso-step x bad', ''].join('\n'), (step, ms) => told.push([step, ms]));
    assert.deepEqual(told, [
      ['objects in place', 250],
      ['checkout', 1000],
    ]);
    assert.equal(sum, 1250);
  });
});
