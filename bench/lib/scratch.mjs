/** Folders of throwaway files (configs, generated plugins) for one benchmark run. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * A new empty folder under the system's temp folder. `remove()` deletes it with everything in it;
 * call it in a `finally`, after every worker and watcher using the folder has stopped.
 */
export async function scratchFolder(label) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `glean-bench-${label}-`));
  return {
    dir,
    file: (name) => path.join(dir, name),
    write: (name, text) => writeFile(path.join(dir, name), text),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
