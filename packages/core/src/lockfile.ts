/**
 * The lockfile: the integrity of every plugin-owned module, not only of each plugin file.
 * `npx glean lock` writes it (`glean.lock.json` beside the config) from the modules the plugins
 * loaded; a Glean that finds it checks every plugin-owned module against it before a byte of it runs,
 * at every load, restart and dynamic import, and refuses a module it does not list.
 *
 * ```json
 * { "lockfileVersion": 1, "modules": { "plugins/hello/index.ts": "sha384-…", "plugins/hello/lib/fmt.ts": "sha384-…" } }
 * ```
 * Keys are paths relative to the plugin root's real path, with `/` between folders.
 */
import { readdir, realpath } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { ErrorCode, GleanError } from './errors.js';
import { integrityProblem } from './integrity.js';
import { MAX_CONFIG_BYTES, readProblem, readRegularFile } from './read-file.js';

/** The lockfile's name, beside the config, where a Glean looks for it and `glean lock` writes it. */
export const LOCKFILE_NAME = 'glean.lock.json';

/** The lockfile format this glean reads and writes. */
export const LOCKFILE_VERSION = 1;

/** A lockfile, read: the integrity value of each module, by its key (see {@link lockKey}). */
export interface Lock {
  /** The lockfile's path, for messages. */
  readonly file: string;
  readonly modules: ReadonlyMap<string, string>;
}

const LockSchema = z.strictObject({
  lockfileVersion: z.literal(LOCKFILE_VERSION),
  modules: z.record(
    z.string().min(1),
    z.string().superRefine((value, context) => {
      const problem = integrityProblem(value);
      if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
    }),
  ),
});

/**
 * Reads the lockfile at `file`: `undefined` when there is none. Rejects `GLEAN_CONFIG_UNREADABLE`
 * when it cannot be read, `GLEAN_CONFIG_INVALID` when it is not a lockfile of this version.
 */
export async function readLock(file: string): Promise<Lock | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, MAX_CONFIG_BYTES, { follow: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GleanError(ErrorCode.CONFIG_UNREADABLE, `cannot read the lockfile ${file} (${readProblem(error)})`, {
      cause: error,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new GleanError(ErrorCode.CONFIG_INVALID, `the lockfile ${file} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = LockSchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined || first.path.length === 0 ? '' : ` at ${first.path.map(String).join('.')}`;
    throw new GleanError(
      ErrorCode.CONFIG_INVALID,
      `the lockfile ${file} is not a glean lockfile (version ${LOCKFILE_VERSION})${where}: ${first?.message ?? 'invalid'}; write it again with npx glean lock`,
      { cause: parsed.error },
    );
  }
  return { file, modules: new Map(Object.entries(parsed.data.modules)) };
}

/** A module's key in a lockfile: its real path relative to the root's real path, `/` between folders. */
export function lockKey(realPath: string, realRoot: string): string {
  return relative(realRoot, realPath).split(sep).join('/');
}

/** How a module's real path becomes its lockfile key, for one root (see {@link lockKeysFor}). */
export type LockKeys = (realPath: string) => string;

/**
 * The lockfile keys of `root`'s modules: a module's path as reached through the root's own top-level
 * symlinks to folders inside it, the deepest such link first, else its real path relative to the
 * root's. In a Kubernetes ConfigMap (`plugins -> ..data/plugins`, `..data -> ..2026_…`), a module is
 * `plugins/index.mjs`, not `..2026_…/plugins/index.mjs`: the same key after every update, and the same
 * as in the flat folder the lockfile was written in.
 */
export async function lockKeysFor(root: string): Promise<LockKeys> {
  const realRoot = await realpath(root).catch(() => resolve(root));
  const links: { readonly target: string; readonly name: string }[] = [];
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isSymbolicLink()) continue;
    const target = await realpath(join(root, entry.name)).catch(() => undefined);
    if (target !== undefined && target !== realRoot && target.startsWith(realRoot + sep))
      links.push({ target, name: entry.name });
  }
  links.sort((a, b) => b.target.length - a.target.length);
  return (realPath) => {
    const through = links.find(({ target }) => realPath.startsWith(target + sep));
    return through === undefined
      ? lockKey(realPath, realRoot)
      : [through.name, ...relative(through.target, realPath).split(sep)].join('/');
  };
}

/** The text of a lockfile listing `modules` (key → integrity), keys sorted, one a line. */
export function lockText(modules: Iterable<readonly [string, string]>): string {
  const sorted = Object.fromEntries([...modules].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, modules: sorted }, null, 2)}\n`;
}
