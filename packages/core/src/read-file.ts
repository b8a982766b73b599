/**
 * The one way glean reads a file it is given (the config, a plugin file, a file to hash): regular
 * files only, up to a size limit, without ever blocking a libuv threadpool thread on anything else.
 *
 * `fs.readFile` on a FIFO blocks in open() until a writer comes, holding one of the four threadpool
 * threads for ever; on `/dev/zero` it reads until memory runs out. Here the open is non-blocking
 * (a FIFO opens at once; regular files ignore the flag), the open handle is checked with fstat before
 * a byte is read, and no more than `limit + 1` bytes are ever read from it, so a file that grows
 * while it is read cannot grow memory without bound either.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** The largest config file glean reads: 16 MiB, far above any config of plugin entries. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** The largest plugin file glean reads (and `glean hash` hashes): 64 MiB, room for a bundled plugin with its dependencies inlined. */
export const MAX_PLUGIN_FILE_BYTES = 64 * 1024 * 1024;

/** After the first read, sized to what fstat said, a file that keeps growing is read in pieces of this size. */
const CHUNK_BYTES = 64 * 1024;

/**
 * A file refused for what it is rather than for an errno: not a regular file, or over the limit.
 * `reason` is the words for a message: `a FIFO, not a regular file`, `20971520 bytes, over the 16 MiB limit`.
 */
export class RefusedFileError extends Error {
  override name = 'RefusedFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** How to open: `follow` a final symlink (the config, the CLI) or refuse it with ELOOP (a checked real path). */
export interface OpenOptions {
  readonly follow: boolean;
}

/** An open regular file and what fstat said of it. Close `handle` when done. */
export interface OpenedFile {
  readonly handle: FileHandle;
  readonly stats: Stats;
}

/**
 * Opens `file` without blocking and checks through the open handle that it is a regular file.
 * Rejects with the OS error (ENOENT, EACCES, ELOOP, ENXIO for a socket, …); with a Node-style
 * EISDIR error for a directory, as reading one would; with {@link RefusedFileError} for any other
 * file that is not regular. The handle is closed on every rejection.
 */
export async function openRegularFile(file: string, { follow }: OpenOptions): Promise<OpenedFile> {
  const flags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (follow ? 0 : (constants.O_NOFOLLOW ?? 0));
  const handle = await open(file, flags);
  try {
    const stats = await handle.stat();
    if (stats.isFile()) return { handle, stats };
    if (stats.isDirectory()) {
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), {
        code: 'EISDIR',
        errno: -21,
        syscall: 'read',
        path: file,
      });
    }
    throw new RefusedFileError(file, `${kindOf(stats)}, not a regular file`);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Reads what is left of an open file, at most `limit` bytes: rejects {@link RefusedFileError} when
 * fstat already says it is larger, or when it grew past the limit while read. Does not close it.
 */
export async function readOpenedFile(file: string, { handle, stats }: OpenedFile, limit: number): Promise<Buffer> {
  if (stats.size > limit) throw new RefusedFileError(file, `${stats.size} bytes, over the ${formatLimit(limit)} limit`);
  const chunks: Buffer[] = [];
  let total = 0;
  // One byte more than expected: the first read already tells a file that grew from one that did not.
  let want = stats.size + 1;
  for (;;) {
    // Unpooled: these bytes may be kept for a version's life, or sent to its workers.
    const chunk = Buffer.allocUnsafeSlow(Math.min(want, limit + 1 - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    chunks.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > limit)
      throw new RefusedFileError(file, `over the ${formatLimit(limit)} limit (it grew while being read)`);
    want = CHUNK_BYTES;
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const chunk of chunks) at += chunk.copy(bytes, at);
  return bytes;
}

/** {@link openRegularFile} then {@link readOpenedFile}, and closes the file. */
export async function readRegularFile(file: string, limit: number, options: OpenOptions): Promise<Buffer> {
  const opened = await openRegularFile(file, options);
  try {
    return await readOpenedFile(file, opened, limit);
  } finally {
    await opened.handle.close();
  }
}

/** What went wrong reading a file, in a word or a phrase: the errno code (`ENOENT`), or why it was refused (`a FIFO, not a regular file`). */
export function readProblem(error: unknown): string {
  if (error instanceof RefusedFileError) return error.reason;
  return (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
}

/** `16 MiB`, `64 MiB`; bytes for a limit that is not a whole number of MiB. */
export function formatLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'a special file'; // no other kind can be opened, but say something true
}
