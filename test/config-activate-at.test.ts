/**
 * The object form's `activateAt`: an RFC 3339 time, read strictly into the config as its text and
 * epoch milliseconds, and every other text refused with a config issue naming the value.
 */
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../packages/core/src/config.js';
import { rfc3339EpochMs, rfc3339Problem } from '../packages/core/src/config/rfc3339.js';
import { ErrorCode, GleanError } from '../packages/core/src/errors.js';

const entry = { id: 'Foo', file: 'plugins/foo.js', name: 'FooHandler' };

/** The config text of `{ activateAt, plugins: [entry] }`, as a person would write it. */
const withActivateAt = (activateAt: unknown): string => JSON.stringify({ activateAt, plugins: [entry] }, null, 2);

function invalid(text: string): GleanError {
  try {
    parseConfig(text, '/srv/plugin.json');
  } catch (error) {
    if (error instanceof GleanError) return error;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('activateAt in the config', () => {
  test('is kept as written and as epoch milliseconds, "Z" or an offset alike', () => {
    const utc = parseConfig(withActivateAt('2026-12-01T21:00:00Z'), '/srv/plugin.json');
    expect(utc.activateAt).toEqual({ text: '2026-12-01T21:00:00Z', epochMs: Date.UTC(2026, 11, 1, 21) });
    const offset = parseConfig(withActivateAt('2026-12-01T22:30:00.250+01:30'), '/srv/plugin.json');
    expect(offset.activateAt).toEqual({
      text: '2026-12-01T22:30:00.250+01:30',
      epochMs: Date.UTC(2026, 11, 1, 21, 0, 0, 250),
    });
    expect(Object.isFrozen(offset.activateAt)).toBe(true);
  });

  test('a config without one, or in the array form, has none', () => {
    expect(parseConfig(JSON.stringify({ plugins: [entry] }), '/srv/plugin.json')).not.toHaveProperty('activateAt');
    expect(parseConfig(JSON.stringify([entry]), '/srv/plugin.json')).not.toHaveProperty('activateAt');
  });

  test('a text that is no RFC 3339 time is an issue at its place, naming the value', () => {
    const error = invalid(withActivateAt('2026-12-01 21:00'));
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.issues).toEqual([
      {
        code: 'invalid-value',
        path: ['activateAt'],
        message:
          'expected an RFC 3339 time such as "2026-12-01T21:00:00Z" (with "Z" or an offset such as "+01:00"), received "2026-12-01 21:00"',
        line: 2,
        column: 17,
      },
    ]);
    expect(invalid(withActivateAt(1764622800000)).message).toMatchInlineSnapshot(`
      "config /srv/plugin.json is invalid:
        activateAt (line 2, column 17): expected an RFC 3339 time (a string), received number"
    `);
    expect(invalid(withActivateAt('2026-02-29T21:00:00Z')).message).toMatchInlineSnapshot(`
      "config /srv/plugin.json is invalid:
        activateAt (line 2, column 17): day 29 is not a day of 2026-02 in "2026-02-29T21:00:00Z""
    `);
  });

  test('in the array form there is no root key to hold it; inside a plugin entry it is an unknown key', () => {
    const error = invalid(JSON.stringify({ plugins: [{ ...entry, activateAt: '2026-12-01T21:00:00Z' }] }));
    expect(error.issues?.map(({ code, path }) => ({ code, path }))).toEqual([
      { code: 'unknown-key', path: ['plugins', 0] },
    ]);
  });
});

describe('rfc3339Problem and rfc3339EpochMs', () => {
  test.each([
    ['2026-12-01T21:00:00Z', Date.UTC(2026, 11, 1, 21)],
    ['2026-12-01t21:00:00z', Date.UTC(2026, 11, 1, 21)],
    ['2026-12-01T21:00:00.5Z', Date.UTC(2026, 11, 1, 21, 0, 0, 500)],
    ['2026-12-01T21:00:00.123456789Z', Date.UTC(2026, 11, 1, 21, 0, 0, 123)],
    ['2026-12-01T16:00:00-05:00', Date.UTC(2026, 11, 1, 21)],
    ['2026-12-02T00:00:00+03:00', Date.UTC(2026, 11, 1, 21)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['0050-01-01T00:00:00Z', -60_589_296_000_000],
  ])('%s is a time: %d ms', (text, epochMs) => {
    expect(rfc3339Problem(text)).toBeUndefined();
    expect(rfc3339EpochMs(text)).toBe(epochMs);
  });

  test.each([
    ['2026-12-01', 'expected an RFC 3339 time'],
    ['2026-12-01T21:00Z', 'expected an RFC 3339 time'],
    ['2026-12-01T21:00:00', 'expected an RFC 3339 time'],
    ['2026-12-01 21:00:00Z', 'expected an RFC 3339 time'],
    ['2026-12-01T21:00:00+0100', 'expected an RFC 3339 time'],
    ['2026-12-01T21:00:00.Z', 'expected an RFC 3339 time'],
    [' 2026-12-01T21:00:00Z', 'expected an RFC 3339 time'],
    ['Tue, 01 Dec 2026 21:00:00 GMT', 'expected an RFC 3339 time'],
    ['2026-13-01T21:00:00Z', 'month 13 is not from 01 to 12'],
    ['2026-00-01T21:00:00Z', 'month 00 is not from 01 to 12'],
    ['2026-04-31T21:00:00Z', 'day 31 is not a day of 2026-04'],
    ['1900-02-29T21:00:00Z', 'day 29 is not a day of 1900-02'],
    ['2026-12-01T24:00:00Z', 'hour 24 is not from 00 to 23'],
    ['2026-12-01T21:60:00Z', 'minute 60 is not from 00 to 59'],
    ['2026-12-31T23:59:60Z', 'second 60 is not from 00 to 59 (leap seconds are not taken)'],
    ['2026-12-01T21:00:00+24:00', 'offset 24:00 is not from 00:00 to 23:59'],
  ])('%s is refused: %s', (text, problem) => {
    expect(rfc3339Problem(text)).toContain(problem);
    expect(rfc3339Problem(text)).toContain(JSON.stringify(text));
    expect(() => rfc3339EpochMs(text)).toThrow(TypeError);
  });
});
