/** Config entries with a canary, and the two plugin versions the canary tests route between. */

/** The stable version: `which()` answers `'v1'`. */
export const STABLE = `export function which() { return 'v1'; }\n`;
/** The canary: `which()` answers `'v2'`. */
export const CANARY = `export function which() { return 'v2'; }\n`;

/** Id `Foo` (`v1.mjs`, version 1.0, export `which`, with `own` over it) and, unless `undefined`, a canary of `canary` over `{ file: 'v2.mjs', version: '2.0' }`. */
export function canaryEntry(canary: Record<string, unknown> | undefined, own: Record<string, unknown> = {}) {
  return {
    id: 'Foo',
    file: 'v1.mjs',
    name: 'which',
    version: '1.0',
    ...own,
    ...(canary === undefined ? {} : { canary: { file: 'v2.mjs', version: '2.0', ...canary } }),
  };
}
