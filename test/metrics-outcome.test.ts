/**
 * The `outcome` label of glean_calls_total as a pure rule: `ok`, the code of an error glean made, or
 * `error` for anything else, so a plugin's own codes never make new series. No threads.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, GleanError } from '../packages/core/src/errors.js';
import { CallOutcome, rejectedOutcome } from '../packages/core/src/metrics/outcome.js';

describe('rejectedOutcome', () => {
  it('is the code of an error glean made, for every code in the table', () => {
    for (const code of Object.values(ErrorCode)) expect(rejectedOutcome(new GleanError(code, 'm'))).toBe(code);
  });

  it.each([
    ['an Error with a code of its own', Object.assign(new Error('m'), { code: 'E_NOPE' })],
    ['an Error that copies a glean code', Object.assign(new Error('m'), { code: 'GLEAN_TIMEOUT' })],
    ['a GleanError given a code outside the table', new GleanError('GLEAN_MADE_UP' as ErrorCode, 'm')],
    ['a string', 'GLEAN_TIMEOUT'],
    ['undefined', undefined],
  ])('is error for %s', (_what, error) => {
    expect(rejectedOutcome(error)).toBe(CallOutcome.ERROR);
  });

  it('takes at most the table size plus two values, whatever is thrown', () => {
    const thrown = [
      ...Object.values(ErrorCode).map((code) => new GleanError(code, 'm')),
      ...Array.from({ length: 1000 }, (_, i) => Object.assign(new Error('m'), { code: `E_${i}` })),
    ];
    const values = new Set([CallOutcome.OK, ...thrown.map(rejectedOutcome)]);
    expect(values.size).toBe(Object.values(ErrorCode).length + 2);
  });
});
