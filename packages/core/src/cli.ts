/**
 * The `glean` command: `glean hash <file>` prints the integrity value to paste into a plugin's
 * config entry. Output goes to stdout, problems to stderr; exit codes are {@link ExitCode}.
 * The executable is bin/glean.js, which calls {@link main}: importing this module runs nothing.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_INTEGRITY_ALGORITHM, IntegrityAlgorithm, hashForIntegrity } from './integrity.js';
import { MAX_PLUGIN_FILE_BYTES, RefusedFileError, formatLimit, readRegularFile } from './read-file.js';

/** How `glean` exits. */
export const ExitCode = {
  /** Done. */
  OK: 0,
  /** A file could not be read, or is not a regular file, or is over the plugin-file limit. */
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
  help                    Print this help.

Options:
  -a, --algorithm <name>  ${ALGORITHMS.join(', ')} (default ${DEFAULT_INTEGRITY_ALGORITHM})
  -h, --help              Print this help.
  -v, --version           Print glean's version.

Exit codes: 0 done, 1 a file could not be read (or is not a regular file, or
is too large), 2 wrong usage.

Example:
  $ npx glean hash plugins/hello/index.ts
  sha384-…
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
  if (command !== 'hash') return usage(`unknown command ${JSON.stringify(command)}; the command is "hash"`);
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
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
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
