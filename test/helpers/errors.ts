/**
 * How a test looks at an error: what a promise rejected with or a read threw (failing the test if it
 * did not), a call's outcome as its value or its code, and messages with the temp folder replaced.
 */
import { expect } from 'vitest';
import { GleanError } from '@glean/core';

/** A class of errors to expect; `Error` for a plugin's own, which arrives as the `Error` it threw. */
type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** An error with whatever properties it was given (a plugin error's own, a GleanError's `id`, `file`…). */
export type Caught<E extends Error = GleanError> = E & Record<string, unknown>;

/**
 * What `promise` rejected with; fails the test if it resolved, or rejected with something not of
 * `kind` (default `GleanError`; a plugin's own error arrives as the `Error` it threw).
 */
export async function rejectionOf<E extends Error = GleanError>(
  promise: Promise<unknown>,
  kind: ErrorClass<E> = GleanError as unknown as ErrorClass<E>,
): Promise<Caught<E>> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(kind);
  return outcome.error as Caught<E>;
}

/** What `read` threw; fails the test if it returned, or threw something not of `kind` (default `GleanError`). */
export function thrownBy<E extends Error = GleanError>(
  read: () => unknown,
  kind: ErrorClass<E> = GleanError as unknown as ErrorClass<E>,
): Caught<E> {
  let value: unknown;
  try {
    value = read();
  } catch (error) {
    expect(error).toBeInstanceOf(kind);
    return error as Caught<E>;
  }
  throw new Error(`expected a throw, got ${String(value)}`);
}

/** How a call settled: its value, or the code it rejected with (`undefined` for an error without one). */
export type CodeOutcome = { value: unknown } | { code: string };

/** `promise`'s value, or the code of its rejection. */
export function outcomeOf(promise: Promise<unknown>): Promise<CodeOutcome> {
  return promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ code: (error as GleanError).code }),
  );
}

/** `error.message` with the folder `dir` replaced by `<dir>`, for inline snapshots. */
export const stable = (error: Error, dir: string): string => error.message.replaceAll(dir, '<dir>');
