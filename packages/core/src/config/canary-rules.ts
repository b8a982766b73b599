/**
 * What no schema type can say about a plugin entry's `canary`, checked on the parsed JSON as the
 * duplicate-id check is, so these issues come with the schema's: it has a weight or steps, not
 * both; stepMs exactly with steps; a version of its own; a handover that lets it run beside the stable.
 */
import { ConfigIssueCode, renderPath, type ConfigIssue, type IssuePath } from './issues.js';
import { MAX_TIMER_MS } from './schema.js';

// What a canary's version is for, said wherever one is refused.
const VERSION_WHY = 'the version names the canary: its routing salt, its events, the per-call override';
const DRAIN_FIRST_WHY = 'a canary runs beside the stable version; "drain-first" lets only one run';
const STEP_MS_EXPECTED = `an integer from 1 to ${MAX_TIMER_MS}, the ms each step lasts`;

type Json = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The canary issues of the plugin entries `entries` (the file's array, or its `plugins`) at `prefix`,
 * under the file's `defaults`; not-yet-valid values are left to the schema.
 */
export function canaryIssues(entries: unknown, prefix: IssuePath, defaults: unknown): ConfigIssue[] {
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((entry: unknown, index) =>
    isObject(entry) && isObject(entry.canary)
      ? issuesOf(entry.canary, entry, isObject(defaults) ? defaults : undefined, [...prefix, index])
      : [],
  );
}

function issuesOf(canary: Json, entry: Json, defaults: Json | undefined, at: IssuePath): ConfigIssue[] {
  const here = [...at, 'canary'];
  const issues: ConfigIssue[] = [];
  const add = (code: ConfigIssueCode, path: IssuePath, message: string): void => {
    issues.push({ code, path, message });
  };

  const { weight, steps, stepMs } = canary;
  if (weight === undefined && steps === undefined)
    add(ConfigIssueCode.MISSING_KEY, here, 'a canary needs "weight" or "steps"');
  if (weight !== undefined && steps !== undefined)
    add(
      ConfigIssueCode.INVALID_VALUE,
      [...here, 'steps'],
      `a canary takes "weight" or "steps", not both (it has weight ${show(weight)})`,
    );
  if (steps !== undefined && stepMs === undefined)
    add(
      ConfigIssueCode.MISSING_KEY,
      [...here, 'stepMs'],
      `missing, expected ${STEP_MS_EXPECTED} (required with "steps")`,
    );
  if (steps === undefined && stepMs !== undefined)
    add(
      ConfigIssueCode.INVALID_VALUE,
      [...here, 'stepMs'],
      `expected "stepMs" only with "steps", received ${show(stepMs)} without them`,
    );

  // An entry without a version has version "": a canary needs one that differs from that too.
  const stable = entry.version ?? '';
  if (typeof stable === 'string') {
    const expected = `a version other than the entry's ${JSON.stringify(stable)}`;
    if (canary.version === undefined)
      add(ConfigIssueCode.MISSING_KEY, [...here, 'version'], `missing, expected ${expected} (${VERSION_WHY})`);
    else if (canary.version === stable)
      add(
        ConfigIssueCode.INVALID_VALUE,
        [...here, 'version'],
        `expected ${expected}, received ${show(stable)} (${VERSION_WHY})`,
      );
  }

  // The effective handover: the canary's, else the entry's, else the defaults'.
  const layers: [IssuePath, Json | undefined][] = [
    [here, canary],
    [at, entry],
    [['defaults'], defaults],
  ];
  const [source, layer] = layers.find(([, each]) => each?.handover !== undefined) ?? [];
  if (source !== undefined && layer?.handover === 'drain-first') {
    if (source === here)
      add(
        ConfigIssueCode.INVALID_VALUE,
        [...here, 'handover'],
        `expected "overlap" for a canary, received "drain-first" (${DRAIN_FIRST_WHY})`,
      );
    else
      add(
        ConfigIssueCode.INVALID_VALUE,
        here,
        `a canary cannot take handover "drain-first" from ${renderPath([...source, 'handover'])} (${DRAIN_FIRST_WHY}); give it "handover": "overlap"`,
      );
  }
  return issues;
}

/** A value as messages show it: numbers as they are, anything else as JSON. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}
