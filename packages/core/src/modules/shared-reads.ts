/**
 * The config files one generation read for module graphs (package.json and tsconfig.json files, and
 * files tried and not found), shared by every graph that asks while the generation runs. A
 * generation first checks each running version's graph for changes on disk, which reads every such
 * file the version consulted; the versions it then starts look up the same files a moment later.
 * Each was read a few milliseconds before, so they take those reads instead of making them again:
 * a new version of a TypeScript plugin otherwise waited on a walk up the folders, one read after
 * another, for its tsconfig before its compile could start (docs/benchmarks.md, section 7).
 *
 * What a version records is still what it was given (the bytes it hashed are the bytes it used), and
 * a change made after the read is a change the watcher or the next generation's check sees, as it
 * would be had the version read the file itself at that moment. Once the generation has ended, every
 * read goes to disk again: a later dynamic import looks at the files as they are then.
 */
import { MAX_CONFIG_BYTES, readRegularFile } from '../read-file.js';

/** A config file's bytes as a graph reads them: a regular file up to {@link MAX_CONFIG_BYTES}, a final symlink followed. */
export function readConfigFile(file: string): Promise<Buffer> {
  return readRegularFile(file, MAX_CONFIG_BYTES, { follow: true });
}

/** One generation's config-file reads. */
export class SharedReads {
  /** Every read made while the generation runs, its failure (ENOENT, …) included; cleared at {@link end}. */
  readonly #reads = new Map<string, Promise<Buffer>>();
  #ended = false;

  /** `file`'s bytes: the generation's read of it, or a read now (kept for the rest of the generation); rejects as the read did. */
  read(file: string): Promise<Buffer> {
    if (this.#ended) return readConfigFile(file);
    let read = this.#reads.get(file);
    if (read === undefined) {
      read = readConfigFile(file);
      // Each asker handles the failure; the one kept here is not an unhandled rejection.
      read.catch(() => {});
      this.#reads.set(file, read);
    }
    return read;
  }

  /** The generation has ended: its reads are dropped, and every later read goes to disk. */
  end(): void {
    this.#ended = true;
    this.#reads.clear();
  }
}

/** How a graph reads a config file: through the generation that made its version ({@link SharedReads}), or straight from disk. */
export type ConfigReads = Pick<SharedReads, 'read'>;

/** Reads with no generation behind them (a standalone handle's version, a graph made in a test): each to disk. */
export const DIRECT_READS: ConfigReads = { read: readConfigFile };
