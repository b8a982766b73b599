/**
 * The `glean` command: `glean hash <file>` prints the integrity value to paste into a plugin's
 * config entry; `glean lock <config>` writes the lockfile of every plugin-owned module the config's
 * plugins load. Output goes to stdout, problems to stderr; exit codes are {@link ExitCode}.
 * The executable is bin/glean.js, which calls {@link main}: importing this module runs nothing.
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GleanEngine } from './engine.js';
import { Log } from './log.js';
import { isPluginOwned } from '@glean/worker/protocol';
import { LOCKFILE_NAME, lockKeysFor, lockText } from './lockfile.js';
import { readConfined, rootURLOf } from './root.js';
import { pathToFileURL } from 'node:url';
import { DEFAULT_INTEGRITY_ALGORITHM, IntegrityAlgorithm, hashForIntegrity } from './integrity.js';
import { MAX_PLUGIN_FILE_BYTES, RefusedFileError, formatLimit, readRegularFile } from './read-file.js';

/** How `glean` exits. */
export const ExitCode = {
  /** Done. */
  OK: 0,
  /** A file could not be read, or is not a regular file, or is over the plugin-file limit; or the plugins to lock did not load. */
  FAILED: 1,
  /** The command line is wrong: unknown command or option, missing file, unsupported algorithm. */
  USAGE: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Where the command writes; `process.stdout` and `process.stderr` when run as `glean`. */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const ALGORITHMS: readonly string[] = Object.values(IntegrityAlgorithm);

const HELP = `Usage: glean <command> [options]

Commands:
  hash <file>...          Print the integrity value of each file: paste it into the
                          plugin's "integrity" in the glean config. With several
                          files, each line is "<value>  <file>". Regular files
                          only, up to ${formatLimit(MAX_PLUGIN_FILE_BYTES)}, as glean loads them.
  lock <config>           Load the config's plugins (as a Glean does, in workers) and
                          write ${LOCKFILE_NAME} beside the config: the integrity of every
                          plugin-owned module they loaded. A Glean that finds it runs
                          no module it does not list with the same bytes.
  help                    Print this help.

Options:
  -a, --algorithm <name>  hash: ${ALGORITHMS.join(', ')} (default ${DEFAULT_INTEGRITY_ALGORITHM})
      --root <folder>     lock: the plugin root (default: the config's folder)
      --add <file>        lock: also list this module, one a plugin imports only later
                          (a dynamic import); may be given several times
  -o, --output <file>     lock: where to write (default: ${LOCKFILE_NAME} beside the config)
  -h, --help              Print this help.
  -v, --version           Print glean's version.

Exit codes: 0 done, 1 a file could not be read (or is not a regular file, or
is too large), or the plugins did not load; 2 wrong usage.

Examples:
  $ npx glean hash plugins/hello/index.ts
  sha384-…
  $ npx glean lock plugin.json
  wrote glean.lock.json: 4 modules
`;

/** Runs `glean` with `args` (the words after `glean`); resolves to the exit code. Never throws for bad input. */
export async function runCli(args: readonly string[], output: CliOutput): Promise<ExitCode> {
  const usage = (message: string): ExitCode => {
    output.stderr(`glean: ${message}\nRun "glean --help" for usage.\n`);
    return ExitCode.USAGE;
  };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    return usage((error as Error).message); // node's own words: "Unknown option '--algo'…"
  }
  const { values, positionals } = parsed;
  const [command, ...files] = positionals;
  if (values.help === true || command === 'help') {
    output.stdout(HELP);
    return ExitCode.OK;
  }
  if (values.version === true) {
    output.stdout(`${version()}\n`);
    return ExitCode.OK;
  }
  if (command === undefined) {
    output.stderr(HELP);
    return ExitCode.USAGE;
  }
  if (command === 'lock') {
    if (files.length !== 1) return usage('lock: which config? as in "glean lock plugin.json"');
    return lock(files[0]!, { root: values.root, add: values.add ?? [], output: values.output }, output);
  }
  if (command !== 'hash')
    return usage(`unknown command ${JSON.stringify(command)}; the commands are "hash" and "lock"`);
  const algorithm = values.algorithm ?? DEFAULT_INTEGRITY_ALGORITHM;
  if (!ALGORITHMS.includes(algorithm))
    return usage(`unsupported algorithm ${JSON.stringify(algorithm)}; use ${ALGORITHMS.join(', ')}`);
  if (files.length === 0) return usage('hash: which file? as in "glean hash plugins/hello/index.ts"');

  let code: ExitCode = ExitCode.OK;
  for (const file of files) {
    let bytes: Buffer;
    try {
      // The limit and the refusals glean's own reads have: a FIFO would hang the command, /dev/zero fill memory.
      bytes = await readRegularFile(file, MAX_PLUGIN_FILE_BYTES, { follow: true });
    } catch (error) {
      const { code: errno, message } = error as NodeJS.ErrnoException;
      const problem = error instanceof RefusedFileError ? error.reason : (errno ?? message);
      output.stderr(`glean: cannot read ${file}: ${problem}\n`);
      code = ExitCode.FAILED;
      continue;
    }
    const value = hashForIntegrity(bytes, algorithm as IntegrityAlgorithm);
    output.stdout(files.length === 1 ? `${value}\n` : `${value}  ${file}\n`);
  }
  return code;
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      algorithm: { type: 'string', short: 'a' },
      root: { type: 'string' },
      add: { type: 'string', multiple: true },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

interface LockOptions {
  readonly root: string | undefined;
  readonly add: readonly string[];
  readonly output: string | undefined;
}

/** `glean lock`: loads the config's plugins with no lockfile, and writes the one their modules make. */
async function lock(configPath: string, options: LockOptions, output: CliOutput): Promise<ExitCode> {
  const config = resolve(configPath);
  const root = resolve(options.root ?? dirname(config));
  const engine = new GleanEngine(
    config,
    { watch: false, watchFiles: false, debounceMs: 0, prewarm: false, requireIntegrity: false, root, lockfile: false },
    {
      log: new Log(false),
      announce: () => {},
      listens: () => false,
    },
  );
  try {
    await engine.loadConfig();
    const entries = await engine.lockEntries();
    const rootURL = rootURLOf(root);
    const key = await lockKeysFor(root);
    for (const file of options.add) {
      const { realPath, bytes } = await readConfined(resolve(file), root);
      if (!isPluginOwned(pathToFileURL(realPath).href, rootURL))
        throw new Error(`${file} is inside a node_modules folder: packages are not locked`);
      entries.set(key(realPath), hashForIntegrity(bytes));
    }
    const target = resolve(options.output ?? join(dirname(config), LOCKFILE_NAME));
    // Written aside and renamed over, so a Glean watching it never reads half a lockfile.
    await writeFile(`${target}.tmp`, lockText(entries));
    await rename(`${target}.tmp`, target);
    output.stdout(`wrote ${target}: ${entries.size} module${entries.size === 1 ? '' : 's'}\n`);
    return ExitCode.OK;
  } catch (error) {
    output.stderr(`glean: lock: ${(error as Error).message}\n`);
    return ExitCode.FAILED;
  } finally {
    await engine.close();
  }
}

function version(): string {
  // dist/cli.js and src/cli.ts both sit one folder below the package's package.json.
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Runs `glean` on this process's command line, writing to its stdout and stderr, and sets `process.exitCode`. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
  });
}
