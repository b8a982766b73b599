import type { Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';

/** Symlinks followed while resolving one path before giving up, as Linux does (ELOOP). */
const MAX_SYMLINK_HOPS = 40;

/**
 * The entries whose change can change what reading `file` gives: every symlink met while resolving
 * it (the link itself, in the folder that holds it) and the entry it ends at; or, where resolution
 * stops, the missing entry (or the non-folder met where a folder was needed). The folder holding
 * each returned entry existed when looked at. For a Kubernetes ConfigMap this yields
 * `dir/plugin.json`, `dir/..data` and `dir/..2026_…/plugin.json`.
 */
export async function watchPoints(file: string): Promise<Set<string>> {
  const points = new Set<string>();
  const split = (p: string): string[] => p.split(path.sep === '\\' ? /[\\/]/ : '/').filter((part) => part !== '');
  const start = path.resolve(file);
  let current = path.parse(start).root;
  let todo = split(start.slice(current.length));
  let hops = 0;
  for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
    if (name === '.') continue;
    if (name === '..') {
      current = path.dirname(current); // current is a real path here, so this is the physical parent
      continue;
    }
    const entry = path.join(current, name);
    let stats: Stats;
    try {
      stats = await lstat(entry);
    } catch {
      points.add(entry);
      return points;
    }
    if (stats.isSymbolicLink()) {
      points.add(entry);
      if (++hops > MAX_SYMLINK_HOPS) return points;
      let target: string;
      try {
        target = await readlink(entry);
      } catch {
        return points;
      }
      if (path.isAbsolute(target)) current = path.parse(target).root;
      todo = [...split(path.isAbsolute(target) ? target.slice(current.length) : target), ...todo];
      continue;
    }
    if (todo.length > 0 && !stats.isDirectory()) {
      points.add(entry);
      return points;
    }
    current = entry;
  }
  points.add(current);
  return points;
}
