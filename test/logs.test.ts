/**
 * What glean logs, through a real pino logger writing to a stream the test reads: one structured
 * line per report, through `child({ component: 'glean' })`, with the plugin's id, version, file and
 * the error's code as fields and the error itself under `err` (pino's serializer prints its stack
 * and cause). A console-like logger keeps the lines glean always wrote; a logger that throws, or a
 * `child()` that fails, breaks nothing.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Logger, RollbackEvent } from '@glean/core';
import { httpListener, type HttpHandler } from '@glean/core/http';
import { nextEvent, until } from './helpers/index.js';
import { CANARY, STABLE, canaryEntry } from './helpers/canary.js';
import { failOnHostUnhandledRejections } from './helpers/faults.js';
import { listen } from './helpers/http.js';
import { startGlean } from './helpers/glean.js';
import { rejectionOf } from './helpers/errors.js';
import { LogLine } from '../packages/core/src/log.js';

failOnHostUnhandledRejections();

/** One line as pino wrote it, parsed. */
type Line = Record<string, unknown> & { level: number; msg: string; err?: { message: string; stack: string } };

/** A real pino logger writing JSON lines into `lines`. */
function pinoInto(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (text: string) => void lines.push(JSON.parse(text) as Line) });
  return { logger, lines };
}

const PINO_WARN = 40;
const PINO_ERROR = 50;

const DIES = `export function die() { process.exit(3); }\n`;

describe('a pino logger', () => {
  it('gets a crash as one warn line through child({ component: "glean" }), with id, version, file, code and the error under err', async () => {
    const { logger, lines } = pinoInto();
    const { glean, temp } = await startGlean({
      files: { 'dies.mjs': DIES },
      config: [{ id: 'D', file: 'dies.mjs', name: 'die', version: '1.0' }],
      logger,
    });
    const die = await glean.reloadAndWatch<() => never>('D');
    const crashed = new Promise((resolve) => glean.once('crash', resolve));
    expect((await rejectionOf(die())).code).toBe('GLEAN_PLUGIN_CRASHED');
    await crashed;

    expect(lines).toHaveLength(1);
    const [line] = lines as [Line];
    expect(line).toMatchObject({
      level: PINO_WARN,
      msg: 'a worker thread crashed',
      component: 'glean',
      id: 'D',
      ids: ['D'],
      version: '1.0',
      file: temp.path('dies.mjs'),
      code: 'GLEAN_PLUGIN_CRASHED',
      restarting: true,
      failed: false,
      threadId: expect.any(Number),
      err: { type: 'GleanError', code: 'GLEAN_PLUGIN_CRASHED', id: 'D' },
    });
    expect(line.err!.message).toContain('exited with code 3');
    expect(line.err!.stack).toMatch(/exited with code 3[\s\S]*\n {4}at /);
  });

  it('gets an error event nobody listens to (a failed reload) as one error line naming the plugin that failed', async () => {
    const { logger, lines } = pinoInto();
    const { glean, temp } = await startGlean({
      files: { 'p.mjs': 'export const answer = 1;\n' },
      config: [{ id: 'P', file: 'p.mjs', name: 'answer', version: '1' }],
      logger,
    });
    await temp.write('p.mjs', 'export const answer = ;\n');
    expect((await rejectionOf(glean.reloadConfig())).code).toBe('GLEAN_LOAD_FAILED');

    expect(lines).toHaveLength(1);
    const [line] = lines as [Line];
    expect(line).toMatchObject({
      level: PINO_ERROR,
      msg: 'an error with no "error" listener',
      component: 'glean',
      id: 'P',
      version: '1',
      file: temp.path('p.mjs'),
      code: 'GLEAN_LOAD_FAILED',
      err: { type: 'GleanError', code: 'GLEAN_LOAD_FAILED' },
    });
    expect(line.err!.stack).toContain('\n    at ');
  });

  it("gets an HTTP 500 as one error line with method, url, status and code, the plugin's stack and cause under err", async () => {
    const { logger, lines } = pinoInto();
    const { glean } = await startGlean({
      files: {
        'handlers.mjs': `export function Throw() {
  throw Object.assign(new Error('secret plugin detail', { cause: new Error('the cause') }), { code: 'E_PLUGIN' });
}\n`,
      },
      config: [{ id: 'Throw', file: 'handlers.mjs', name: 'Throw' }],
      prewarm: false,
    });
    const base = await listen(createServer(httpListener(await glean.reloadAndWatch<HttpHandler>('Throw'), { logger })));

    const answer = await fetch(`${base}/boom?x=1`);
    expect([answer.status, await answer.text()]).toEqual([500, 'Internal Server Error\n']);

    expect(lines).toHaveLength(1);
    const [line] = lines as [Line];
    expect(line).toMatchObject({
      level: PINO_ERROR,
      msg: 'an HTTP request was answered 500',
      component: 'glean',
      method: 'GET',
      url: '/boom?x=1',
      status: 500,
      code: 'E_PLUGIN',
    });
    expect(line.err!.message).toBe('secret plugin detail: the cause');
    expect(line.err!.stack).toMatch(
      /^Error: secret plugin detail\n {4}at Throw [\s\S]*handlers\.mjs[\s\S]*caused by: Error: the cause/,
    );
  });

  it.each([
    [
      'throws',
      (): never => {
        throw new Error('no child today');
      },
    ],
    ['returns something without level methods', () => ({ info: () => {} })],
  ])('writes to the logger itself, with component: "glean" on each line, when its child() %s', async (_what, child) => {
    const { logger: parent, lines } = pinoInto();
    let children = 0;
    const logger: Logger = {
      warn: parent.warn.bind(parent),
      error: parent.error.bind(parent),
      child: () => {
        children++;
        return child();
      },
    };
    const { glean, temp } = await startGlean({
      files: { 'p.mjs': 'export const answer = 1;\n' },
      config: [{ id: 'P', file: 'p.mjs', name: 'answer' }],
      logger,
    });
    await temp.write('p.mjs', 'export const answer = ;\n');
    await rejectionOf(glean.reloadConfig());
    await rejectionOf(glean.reloadConfig());

    expect(lines.map(({ msg, component, id, code }) => ({ msg, component, id, code }))).toEqual([
      { msg: 'an error with no "error" listener', component: 'glean', id: 'P', code: 'GLEAN_LOAD_FAILED' },
      { msg: 'an error with no "error" listener', component: 'glean', id: 'P', code: 'GLEAN_LOAD_FAILED' },
    ]);
    expect(children).toBe(1);
  });
});

describe('a canary rolled back', () => {
  it('by glean.rollback() is a warn line (an operator acted), by its crash streak an error line', async () => {
    const { logger, lines } = pinoInto();
    const { glean, temp } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY, 'v3.mjs': `export function which() { process.exit(3); }\n` },
      config: [canaryEntry({ weight: 100 })],
      logger,
    });
    const foo = await glean.reloadAndWatch<() => Promise<string>>('Foo');
    await glean.rollback('Foo');

    await temp.write('plugin.json', [canaryEntry({ weight: 100, file: 'v3.mjs', version: '3.0' })]);
    await glean.reloadConfig();
    const rolledBack = nextEvent<RollbackEvent>(glean, 'rollback');
    let event: RollbackEvent | undefined;
    void rolledBack.then((e) => (event = e));
    const overdue = Date.now() + 10_000;
    while (event === undefined && Date.now() < overdue) await foo().catch(() => undefined);
    expect(await rolledBack).toMatchObject({ version: '3.0', reason: 'crashes' });

    const rollbacks = lines.filter(({ msg }) => msg === LogLine.CANARY_ROLLED_BACK.message);
    expect(rollbacks.map(({ level, version, reason }) => [level, version, reason])).toEqual([
      [PINO_WARN, '2.0', 'manual'],
      [PINO_ERROR, '3.0', 'crashes'],
    ]);
  });
});

describe('a console-like logger (no child())', () => {
  it("gets the crash line glean always wrote: the error's message, then what happens next", async () => {
    const warned: unknown[][] = [];
    const { glean } = await startGlean({
      files: { 'dies.mjs': DIES },
      config: [{ id: 'D', file: 'dies.mjs', name: 'die', version: '1.0' }],
      logger: { warn: (...args: unknown[]) => void warned.push(args), error: () => {} },
    });
    const die = await glean.reloadAndWatch<() => never>('D');
    await rejectionOf(die());
    await until(() => warned.length > 0, 'the crash to be logged');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toHaveLength(1);
    expect(warned[0]![0]).toMatch(
      /^glean: plugin "D" \(.*dies\.mjs@1\.0\): .*exited with code 3.* \(restarting the worker\)$/,
    );
  });
});

describe('an HTTP adapter whose logger throws', () => {
  it.each([
    ['console-like', {}],
    ['pino-like', { child: () => ({ warn: throwing, error: throwing }) }],
  ])('still answers 500 (%s), with no unhandled rejection', async (_kind, extra) => {
    const { glean } = await startGlean({
      files: { 'handlers.mjs': `export function Throw() { throw new Error('plugin failed'); }\n` },
      config: [{ id: 'Throw', file: 'handlers.mjs', name: 'Throw' }],
      prewarm: false,
    });
    const logger: Logger = { warn: throwing, error: throwing, ...extra };
    const base = await listen(createServer(httpListener(await glean.reloadAndWatch<HttpHandler>('Throw'), { logger })));
    const answer = await fetch(`${base}/boom`, { signal: AbortSignal.timeout(5000) });
    expect([answer.status, await answer.text()]).toEqual([500, 'Internal Server Error\n']);
  });
});

function throwing(): never {
  throw new Error('the logger failed');
}

describe("the README's table of logs", () => {
  it('lists every line glean logs, at its level, and no other', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Logs'), readme.indexOf('\n### ', readme.indexOf('### Logs') + 1));
    const rows = [...section.matchAll(/^\| `([^`]+)` +\| `(warn|error)` +\|/gm)].map(([, message, level]) => ({
      message,
      level,
    }));
    // A line whose level depends on its fields is listed at the level it has by default.
    const lines = Object.values(LogLine).map(({ message, level }) => ({
      message,
      level: typeof level === 'function' ? level({}) : level,
    }));
    expect(rows).toEqual(lines);
  });
});
