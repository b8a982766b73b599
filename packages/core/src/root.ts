/**
 * Root confinement: a plugin file loads only when its real path — every symlink on the way
 * followed — lies inside the plugin root. By default the root is the folder holding the config
 * path as given, so in a Kubernetes ConfigMap layout (`plugin.json -> ..data/plugin.json`) it is the
 * folder of the link, and files reached through `..data` are inside it.
 */
import { realpathSync } from 'node:fs';
import { readlink, realpath, stat } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ErrorCode, GleanError } from './errors.js';
import { type PluginRef, pluginError } from './plugin-ref.js';
import { MAX_PLUGIN_FILE_BYTES, openRegularFile, readOpenedFile, readProblem, type OpenedFile } from './read-file.js';

/** The plugin a confinement check concerns, for its error messages: its id, when there is one, and its version text (default `''`). */
export type ConfinedPlugin = Partial<Omit<PluginRef, 'file'>>;

/** A plugin file read by {@link readConfined}. */
export interface ConfinedFile {
  /** The file's real path, inside the root. */
  readonly realPath: string;
  /** Its bytes, read through the same open file that was checked. */
  readonly bytes: Buffer;
}

// Linux gives up after 40 links in one lookup; so do we when following dangling ones by hand.
const MAX_SYMLINKS = 40;
// A file swapped between the check and the open is checked again, this many times at most.
const MAX_ATTEMPTS = 3;

/**
 * The root's real path as a `file:` URL with no trailing slash: what a worker's module hooks compare
 * module URLs with (`isPluginOwned`). Taken once, when a glean starts; a root that does not exist yet
 * is taken as given.
 */
export function rootURLOf(root: string): string {
  let real: string;
  try {
    real = realpathSync(root);
  } catch {
    real = resolve(root);
  }
  return pathToFileURL(real).href.replace(/\/$/, '');
}

/** The real root path a {@link rootURLOf} URL stands for. */
export function realRootOf(rootURL: string): string {
  return fileURLToPath(`${rootURL}/`).replace(/(.)\/$/, '$1');
}

/**
 * Whether `realFile` is `realRoot` or below it. Both must already be real, absolute paths.
 * A component-wise test: `/srv/app-evil` is not inside `/srv/app`, `/srv/app/..data/x` is.
 */
export function isInside(realFile: string, realRoot: string): boolean {
  if (realFile === realRoot) return true;
  return realFile.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
}

/**
 * Resolves `file` (absolute, or relative to the working folder) to its real path and returns it if it
 * is inside `root`, after following every symlink of both.
 *
 * Rejects `GLEAN_OUTSIDE_ROOT`, naming the file, its real path and the root, when it is not inside.
 * A file that does not exist is a load error, `GLEAN_LOAD_FAILED` (`ENOENT`), as it would be with no
 * root — unless the place it would be at, following the symlinks that do exist (a dangling link
 * too), is outside the root: then it is `GLEAN_OUTSIDE_ROOT` as well, so whether a file exists
 * outside the root can never be told from the error. Other unreadable paths (`ELOOP`, `EACCES`,
 * `ENOTDIR`) reject `GLEAN_LOAD_FAILED` with their errno code, as does a root that cannot be resolved.
 * `knownRealRoot`: the root's real path when the caller already has it (a module graph, which
 * confines every module of a version to the real root taken when the glean started).
 */
export async function confine(
  file: string,
  root: string,
  plugin: ConfinedPlugin = {},
  knownRealRoot?: string,
): Promise<string> {
  const absolute = resolve(file);
  const named: PluginRef = { id: plugin.id, file: absolute, version: plugin.version ?? '' };

  let realRoot: string;
  try {
    realRoot = knownRealRoot ?? (await realpath(root));
  } catch (error) {
    throw pluginError(
      ErrorCode.LOAD_FAILED,
      named,
      `the plugin root ${resolve(root)} cannot be resolved (${errno(error)})`,
      { cause: error },
    );
  }
  const outside = (real: string, missing: boolean): GleanError => {
    const rootShown = realRoot === resolve(root) ? realRoot : `${resolve(root)} (really ${realRoot})`;
    const gone = missing ? ' (missing)' : '';
    const what =
      real === absolute ? `${absolute}${gone} is outside` : `${absolute} resolves to ${real}${gone}, outside`;
    return pluginError(
      ErrorCode.OUTSIDE_ROOT,
      named,
      `${what} the plugin root ${rootShown}; plugins load only from inside it`,
    );
  };

  let real: string;
  try {
    real = await realpath(absolute);
  } catch (error) {
    if (errno(error) === 'ENOENT') {
      const wouldBe = await realPathOfMissing(absolute, 0).catch(() => undefined);
      if (wouldBe !== undefined && !isInside(wouldBe, realRoot)) throw outside(wouldBe, true);
    }
    throw unreadable(named, error);
  }
  if (!isInside(real, realRoot)) throw outside(real, false);
  return real;
}

/**
 * Confines `file` to `root` as {@link confine} does, then reads it, making sure the bytes come from
 * the file that was checked: it opens the real path without following a final symlink, then checks
 * that the open file is still the one `file` resolves to inside the root (a symlink or folder swapped
 * in between is caught, and the whole check runs again). Hash these bytes and run these bytes, and
 * nothing can be swapped between the check and the load. Only a regular file of at most
 * {@link MAX_PLUGIN_FILE_BYTES} is read; a FIFO or a device is refused without waiting on it.
 * Rejects as {@link confine} does; `GLEAN_LOAD_FAILED` when the file cannot be read, is not a regular
 * file, is over the limit, or keeps changing.
 */
export async function readConfined(
  file: string,
  root: string,
  plugin: ConfinedPlugin = {},
  knownRealRoot?: string,
): Promise<ConfinedFile> {
  const absolute = resolve(file);
  const named: PluginRef = { id: plugin.id, file: absolute, version: plugin.version ?? '' };
  for (let attempt = 1; ; attempt++) {
    const realPath = await confine(absolute, root, plugin, knownRealRoot);
    let opened: OpenedFile;
    try {
      // follow: false (O_NOFOLLOW): a final component turned into a symlink since realpath fails with ELOOP instead of being followed.
      // A FIFO or a device is refused here, from the open handle, before a byte is read or anything waits on it.
      opened = await openRegularFile(realPath, { follow: false });
    } catch (error) {
      if (attempt < MAX_ATTEMPTS && (errno(error) === 'ELOOP' || errno(error) === 'ENOENT')) continue;
      throw unreadable(named, error);
    }
    try {
      // The open file must be the one `file` leads to now, inside the root: same device and inode.
      const now = await confine(absolute, root, plugin, knownRealRoot);
      const there = await stat(now).catch(() => undefined);
      if (there === undefined || there.dev !== opened.stats.dev || there.ino !== opened.stats.ino) {
        if (attempt < MAX_ATTEMPTS) continue;
        throw pluginError(
          ErrorCode.LOAD_FAILED,
          named,
          `the plugin file kept changing while it was read (${MAX_ATTEMPTS} attempts)`,
        );
      }
      return { realPath: now, bytes: await readOpenedFile(realPath, opened, MAX_PLUGIN_FILE_BYTES) };
    } catch (error) {
      throw error instanceof GleanError ? error : unreadable(named, error);
    } finally {
      await opened.handle.close();
    }
  }
}

/**
 * The real path `file` would have if it existed: `realpath` of the longest part that exists, dangling
 * symlinks followed by hand, the missing rest appended. Only used to tell which error a missing
 * file gets; a `..` inside a dangling link's target is taken lexically.
 */
async function realPathOfMissing(file: string, links: number): Promise<string> {
  try {
    return await realpath(file);
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error;
  }
  const parent = dirname(file);
  if (parent === file) return file;
  const realParent = await realPathOfMissing(parent, links);
  const here = join(realParent, basename(file));
  let target: string;
  try {
    target = await readlink(here);
  } catch {
    return here; // not there at all (or not a link): nothing more to follow
  }
  if (links >= MAX_SYMLINKS) throw Object.assign(new Error(`too many symbolic links at ${here}`), { code: 'ELOOP' });
  return realPathOfMissing(resolve(realParent, target), links + 1);
}

function unreadable(plugin: PluginRef, error: unknown): GleanError {
  // The same wording as a plugin file that cannot be hashed (content.ts): it is the same failure.
  return pluginError(ErrorCode.LOAD_FAILED, plugin, `cannot read the plugin file (${readProblem(error)})`, {
    cause: error,
  });
}

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
}
