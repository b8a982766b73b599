/**
 * How a plugin's errors reach the caller: a throw or a rejection arrives as the error the plugin
 * threw (name, message, own properties, cause, a stack from the plugin file), a non-Error as
 * GLEAN_PLUGIN_THREW; and a plugin that fails to load makes loadConfig() reject with a coded error
 * naming it, leaving no thread running.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ErrorCode, GleanError } from '@glean/core';
import { threadsBackTo, type Entry } from './helpers/index.js';
import { rejectionOf, stable, type Caught } from './helpers/errors.js';
import { sharedGlean, startGlean } from './helpers/glean.js';

describe("a plugin's error reaches the caller as the plugin threw it", () => {
  const suite = sharedGlean({
    files: {
      'errors.mjs': `
export class ValidationError extends Error {
  name = 'ValidationError';
  constructor(message, details) {
    super(message);
    this.code = 'E_VALIDATION';
    this.status = 422;
    this.details = details;
  }
}
export function validate(order) {
  if (!order.email) throw new ValidationError('email is required', { field: 'email', rule: 'required' });
  return true;
}
export async function validateLater(order) {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return validate(order);
}
export function wrap() {
  throw new Error('saving failed', { cause: new TypeError('disk is read-only') });
}
export function throwString() { throw 'the string'; }
export async function rejectString() { throw 'the string'; }
`,
    },
    config: [
      { id: 'Validate', file: 'errors.mjs', name: 'validate' },
      { id: 'ValidateLater', file: 'errors.mjs', name: 'validateLater' },
      { id: 'Wrap', file: 'errors.mjs', name: 'wrap' },
      { id: 'ThrowString', file: 'errors.mjs', name: 'throwString' },
      { id: 'RejectString', file: 'errors.mjs', name: 'rejectString' },
    ],
  });
  type Validate = (order: { email?: string }) => boolean;

  function expectValidationError(error: Caught<Error>): void {
    expect(error).not.toBeInstanceOf(GleanError);
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('email is required');
    expect(error).toMatchObject({ code: 'E_VALIDATION', status: 422, details: { field: 'email', rule: 'required' } });
    expect(error.stack).toMatch(/^ValidationError: email is required\n/);
    expect(error.stack).toContain(`${pathToFileURL(join(suite.temp.dir, 'errors.mjs')).href}:`);
  }

  test('a throw rejects with the same name, message, code, own properties and a stack from the plugin file', async () => {
    const validate = await suite.glean.reloadAndWatch<Validate>('Validate');
    expect(await validate({ email: 'a@b.c' })).toBe(true);
    expectValidationError(await rejectionOf(validate({}), Error));
  });

  test('a rejected promise rejects with the plugin error likewise', async () => {
    const validateLater =
      await suite.glean.reloadAndWatch<(order: { email?: string }) => Promise<boolean>>('ValidateLater');
    expectValidationError(await rejectionOf(validateLater({}), Error));
  });

  test("the plugin error's cause comes along", async () => {
    const wrap = await suite.glean.reloadAndWatch<() => void>('Wrap');
    const error = await rejectionOf(wrap(), Error);
    expect(error.message).toBe('saving failed');
    expect(error.cause).toBeInstanceOf(TypeError);
    expect((error.cause as Error).message).toBe('disk is read-only');
  });

  test('throwing a string rejects GLEAN_PLUGIN_THREW carrying the string as error.thrown', async () => {
    const throwString = await suite.glean.reloadAndWatch<() => void>('ThrowString');
    const error = await rejectionOf(throwString());
    expect(error).toBeInstanceOf(GleanError);
    expect(error.code).toBe(ErrorCode.PLUGIN_THREW);
    expect(error.thrown).toBe('the string');
    expect(stable(error, suite.temp.dir)).toMatchInlineSnapshot(
      `"plugin "ThrowString" (<dir>/errors.mjs) threw a non-Error value: "the string""`,
    );
  });

  test('rejecting with a string rejects GLEAN_PLUGIN_THREW likewise', async () => {
    const rejectString = await suite.glean.reloadAndWatch<() => Promise<void>>('RejectString');
    const error = await rejectionOf(rejectString());
    expect(error.code).toBe(ErrorCode.PLUGIN_THREW);
    expect(error.thrown).toBe('the string');
  });
});

describe('a plugin that fails to load makes loadConfig reject and leaves no thread running', () => {
  const fine = `export function fine() { return 'fine'; }`;

  /**
   * Writes `files`, a config of a good plugin and `entry`, and returns loadConfig's rejection once
   * the thread count is back to what it was before the Glean was made.
   */
  async function failedLoad(
    files: Record<string, string>,
    entry: Entry,
  ): Promise<{ error: Caught; dir: string; elapsedMs: number }> {
    const { glean, temp, baseline } = await startGlean({
      files: { 'fine.mjs': fine, ...files },
      config: [{ id: 'Fine', file: 'fine.mjs', name: 'fine' }, entry],
      load: false,
    });
    const started = Date.now();
    const error = await rejectionOf(glean.loadConfig());
    const elapsedMs = Date.now() - started;
    expect(error).toBeInstanceOf(GleanError);
    await threadsBackTo(baseline);
    // Nothing was loaded: handles cannot be had for either id.
    await expect(glean.reloadAndWatch('Fine')).rejects.toBeInstanceOf(GleanError);
    return { error, dir: temp.dir, elapsedMs };
  }

  test('a missing export rejects GLEAN_SYMBOL_NOT_FOUND listing the exports that exist', async () => {
    const { error, dir } = await failedLoad(
      { 'plugin.mjs': `export function alpha() {}\nexport const beta = 2;\nexport default {};` },
      { id: 'Gamma', file: 'plugin.mjs', name: 'gamma', version: '1.0' },
    );
    expect(error.code).toBe(ErrorCode.SYMBOL_NOT_FOUND);
    expect(error.id).toBe('Gamma');
    expect(stable(error, dir)).toMatchInlineSnapshot(
      `"plugin "Gamma" (<dir>/plugin.mjs@1.0): export "gamma" not found; exports are: alpha, beta, default"`,
    );
  });

  test('a name a CommonJS module does not export is not found on Object.prototype of its module.exports', async () => {
    const { error } = await failedLoad(
      { 'plugin.cjs': `module.exports = { alpha() { return 1; } };` },
      { id: 'ToString', file: 'plugin.cjs', name: 'toString' },
    );
    expect(error.code).toBe(ErrorCode.SYMBOL_NOT_FOUND);
    expect(error.message).toContain('exports are: alpha, default');
  });

  test('a missing file rejects GLEAN_LOAD_FAILED', async () => {
    const { error, dir } = await failedLoad({}, { id: 'Missing', file: 'nowhere.mjs', name: 'nothing' });
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.file).toBe(join(dir, 'nowhere.mjs'));
    expect(stable(error, dir)).toMatchInlineSnapshot(
      `"plugin "Missing" (<dir>/nowhere.mjs): cannot read the plugin file (ENOENT)"`,
    );
  });

  test('a syntax error rejects GLEAN_LOAD_FAILED with the SyntaxError as cause', async () => {
    const { error } = await failedLoad(
      { 'broken.mjs': `export function broken( {\n  return 1;\n}\n` },
      { id: 'Broken', file: 'broken.mjs', name: 'broken' },
    );
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  test("an import that throws rejects GLEAN_LOAD_FAILED with the plugin's error as cause", async () => {
    const { error } = await failedLoad(
      {
        'throws.mjs': `
class SetupError extends Error { name = 'SetupError'; code = 'E_SETUP'; }
throw new SetupError('DATABASE_URL is not set');
export function never() {}
`,
      },
      { id: 'Throws', file: 'throws.mjs', name: 'never' },
    );
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).toMatchObject({ name: 'SetupError', message: 'DATABASE_URL is not set', code: 'E_SETUP' });
    expect((error.cause as Error).stack).toContain('throws.mjs:');
  });

  test('a top-level await that never finishes rejects GLEAN_LOAD_FAILED once loadTimeoutMs has passed', async () => {
    const { error, elapsedMs } = await failedLoad(
      { 'stuck.mjs': `await new Promise(() => {});\nexport function never() {}\n` },
      { id: 'Stuck', file: 'stuck.mjs', name: 'never', loadTimeoutMs: 300 },
    );
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    // The import never finishes, so the failure can only be the timeout's.
    expect(elapsedMs).toBeGreaterThanOrEqual(300);
  });
});
