/**
 * The pure rules of the module graph, without threads: which modules are the plugin's own, which
 * files an import may mean, how Node would load a file, what a tsconfig chain says, and which
 * module requests the host takes.
 */
import type { MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { checkModuleRequest, isPluginOwned } from '@glean/worker/protocol';
import { candidatesFor, isPathSpecifier } from '../packages/core/src/modules/candidates.js';
import { detectFormat, formatByName, unknownExtension } from '../packages/core/src/modules/format.js';
import { parseJsonc } from '../packages/core/src/modules/jsonc.js';
import type { ModuleGraph } from '../packages/core/src/modules/graph.js';
import { ModulePorts } from '../packages/core/src/modules/ports.js';
import { loadTypeScriptSettings, matchPaths } from '../packages/core/src/modules/tsconfig.js';
import { onCleanup, until } from './helpers/index.js';

describe('isPluginOwned', () => {
  const root = 'file:///srv/app';
  it.each([
    ['file:///srv/app/p/index.ts', true],
    ['file:///srv/app/p/lib/x.js?v=2#top', true],
    ['file:///srv/app/node_modules/lodash/index.js', false],
    ['file:///srv/app/p/node_modules/x/index.js', false],
    ['file:///srv/app/p/node_modules_not/x.js', true],
    ['file:///srv/app-evil/x.js', false],
    ['file:///srv/app', false],
    ['node:fs', false],
    ['data:text/javascript,export default 1', false],
  ])('%s: %s', (url, owned) => {
    expect(isPluginOwned(url, root)).toBe(owned);
  });

  it('counts a query or fragment as the same file, never as a way out of node_modules', () => {
    expect(isPluginOwned('file:///srv/app/node_modules/x.js?/../../p.js', root)).toBe(false);
  });
});

describe('candidatesFor', () => {
  it('an ES import from JavaScript: the file named, then its TypeScript twins', () => {
    expect(candidatesFor('/p/lib/x.js', false)).toEqual(['/p/lib/x.js', '/p/lib/x.ts', '/p/lib/x.tsx']);
    expect(candidatesFor('/p/lib/x.mjs', false)).toEqual(['/p/lib/x.mjs', '/p/lib/x.mts']);
    expect(candidatesFor('/p/lib/x.cjs', false)).toEqual(['/p/lib/x.cjs', '/p/lib/x.cts']);
    expect(candidatesFor('/p/lib/x', false)).toEqual(['/p/lib/x']);
  });

  it('a require, or an import from TypeScript: extensionless names and folder index files too', () => {
    const found = candidatesFor('/p/lib/x', true);
    expect(found.slice(0, 4)).toEqual(['/p/lib/x', '/p/lib/x.js', '/p/lib/x.json', '/p/lib/x.ts']);
    expect(found).toContain('/p/lib/x/index.ts');
    expect(found.indexOf('/p/lib/x.ts')).toBeLessThan(found.indexOf('/p/lib/x/index.js'));
  });

  it('a name with a module extension gets no extension added', () => {
    expect(candidatesFor('/p/data.json', true)).not.toContain('/p/data.json.js');
  });

  it.each([
    ['./x', true],
    ['../x', true],
    ['/abs/x', true],
    ['file:///abs/x', true],
    ['lodash', false],
    ['@lib/fmt', false],
    ['#internal', false],
    ['node:fs', false],
  ])('isPathSpecifier(%s) is %s', (specifier, expected) => {
    expect(isPathSpecifier(specifier)).toBe(expected);
  });
});

describe('formatByName and detectFormat', () => {
  it.each([
    ['/p/a.mjs', undefined, 'module'],
    ['/p/a.mts', 'commonjs', 'module'],
    ['/p/a.cjs', 'module', 'commonjs'],
    ['/p/a.cts', undefined, 'commonjs'],
    ['/p/a.json', 'module', 'json'],
    ['/p/a.js', 'module', 'module'],
    ['/p/a.ts', 'commonjs', 'commonjs'],
    ['/p/a.js', undefined, 'detect'],
    ['/p/a.txt', 'module', 'commonjs'],
  ] as const)('%s under type %s: %s', (file, type, format) => {
    expect(formatByName(file, type)).toBe(format);
  });

  it('refuses unknown extensions to import, as Node does; an extensionless file is imported', () => {
    expect(unknownExtension('/p/a.txt')).toBe(true);
    expect(unknownExtension('/p/a.jsx')).toBe(true);
    expect(unknownExtension('/p/bin/run')).toBe(false);
    expect(unknownExtension('/p/a.tsx')).toBe(false);
  });

  it.each([
    ['export const a = 1;', 'module'],
    ["import fs from 'node:fs';", 'module'],
    ['console.log(import.meta.url);', 'module'],
    ['await Promise.resolve();', 'module'],
    ['module.exports = 1;', 'commonjs'],
    ['return;', 'commonjs'],
    ['const x = import("./y.js");', 'commonjs'],
    ['this is not javascript', 'commonjs'],
  ] as const)('detects %s as %s, as Node 20.19+ and 22.7+ do', async (code, format) => {
    expect(await detectFormat(code, '/p/a.js')).toBe(format);
  });
});

describe('parseJsonc', () => {
  it('reads comments and trailing commas as tsconfig files have them, and nothing inside strings changes', () => {
    const text = `{
      // a comment
      "compilerOptions": { "paths": { "@lib/*": ["lib/*",], }, /* block */ "url": "http://x//y,}" },
    }`;
    expect(parseJsonc(text)).toEqual({ compilerOptions: { paths: { '@lib/*': ['lib/*'] }, url: 'http://x//y,}' } });
  });

  it('throws a SyntaxError for what is not JSON even so', () => {
    expect(() => parseJsonc('{ "a": }')).toThrow(SyntaxError);
  });
});

describe('tsconfig settings', () => {
  const files: Record<string, string> = {
    '/p/tsconfig.json':
      '{ "extends": "../base/tsconfig.json", "compilerOptions": { "experimentalDecorators": true, "baseUrl": "." } }',
    '/base/tsconfig.json':
      '{ "compilerOptions": { "experimentalDecorators": false, "jsx": "react", "paths": { "@lib/*": ["lib/*"] } } }',
    '/loop/a.json': '{ "extends": "./b.json" }',
    '/loop/b.json': '{ "extends": "./a.json" }',
  };
  const read = async (file: string): Promise<string | undefined> => files[file];

  it('merges compilerOptions base first, follows extends, and keeps paths relative to where they were set', async () => {
    const settings = await loadTypeScriptSettings('/p/tsconfig.json', read);
    expect(settings.files).toEqual(['/p/tsconfig.json', '/base/tsconfig.json']);
    expect(settings.compilerOptions).toMatchObject({ experimentalDecorators: true, jsx: 'react' });
    expect(settings.paths).toEqual({ base: '/base', patterns: { '@lib/*': ['lib/*'] } });
  });

  it('refuses an extends cycle, naming the file', async () => {
    await expect(loadTypeScriptSettings('/loop/a.json', read)).rejects.toThrow(
      /\/loop\/a\.json: "extends" goes more than 16 deep or in a circle/,
    );
  });

  it('matches paths as TypeScript does: an exact pattern first, else the longest prefix', () => {
    const paths = {
      base: '/p',
      patterns: { '@lib/*': ['lib/*'], '@lib/core/*': ['core/*'], config: ['cfg/index.ts'] },
    };
    expect(matchPaths('@lib/fmt', paths)).toEqual(['/p/lib/fmt']);
    expect(matchPaths('@lib/core/x', paths)).toEqual(['/p/core/x']);
    expect(matchPaths('config', paths)).toEqual(['/p/cfg/index.ts']);
    expect(matchPaths('lodash', paths)).toEqual([]);
  });
});

describe('checkModuleRequest', () => {
  it.each([
    [{ seq: 1, op: 'load', url: 'file:///p/a.js', require: false }, true],
    [{ seq: 2, op: 'resolve', specifier: './a', parent: 'file:///p/b.js', require: true }, true],
    [{ seq: 0, op: 'load', url: 'file:///p/a.js', require: false }, false],
    [{ seq: 1, op: 'load', url: 'file:///p/a.js' }, false],
    [{ seq: 1, op: 'load', url: 'x'.repeat(4097), require: false }, false],
    [{ seq: 1, op: 'load', url: '', require: false }, false],
    [{ seq: 1, op: 'load', url: 'file:///p/a.js', require: false, extra: 1 }, false],
    [{ seq: 1, op: 'resolve', specifier: './a', parent: 7, require: true }, false],
    [{ seq: 1, op: 'delete', url: 'file:///p/a.js' }, false],
    [null, false],
    [[1, 'load'], false],
  ])('%j: taken %s', (message, taken) => {
    expect(checkModuleRequest(message) !== undefined).toBe(taken);
  });
});

describe('ModulePorts', () => {
  /** A channel's worker end, driven from this thread: post a request, take whatever the host answers. */
  function drive(ports: ModulePorts, index: 0 | 1) {
    const end = ports.task[index];
    const port = end.port as MessagePort;
    const answers: unknown[] = [];
    port.on('message', (answer: unknown) => answers.push(answer));
    return { port, answers };
  }

  it('answers one request at a time, numbered 1, 2, 3…; with no version loading, each answer is a coded error', async () => {
    const breaches: string[] = [];
    const ports = new ModulePorts((what) => breaches.push(what));
    onCleanup(() => ports.close());
    const { port, answers } = drive(ports, 0);
    port.postMessage({ seq: 1, op: 'load', url: 'file:///p/a.js', require: false });
    await until(() => answers.length === 1, 'the first answer');
    port.postMessage({ seq: 2, op: 'load', url: 'file:///p/a.js', require: false });
    await until(() => answers.length === 2, 'the second answer');
    expect(answers).toEqual([
      { seq: 1, error: { code: 'GLEAN_LOAD_FAILED', message: 'no plugin version is loading in this worker' } },
      { seq: 2, error: { code: 'GLEAN_LOAD_FAILED', message: 'no plugin version is loading in this worker' } },
    ]);
    expect(breaches).toEqual([]);
    port.close();
  });

  it.each([
    ['a request while one is answered', [1, 2], 'sent module request 2 while request 1 was being answered'],
    ['a request out of order', [2], 'sent module request 2 where 1 was next'],
  ])('takes %s as a breach of the protocol', async (_case, seqs, breach) => {
    const breaches: string[] = [];
    const ports = new ModulePorts((what) => breaches.push(what));
    onCleanup(() => ports.close());
    // A graph that is still reading: its answers wait, as a large module's would.
    ports.serve({ answer: () => new Promise<never>(() => {}) } as unknown as ModuleGraph);
    const { port } = drive(ports, 1);
    for (const seq of seqs) port.postMessage({ seq, op: 'load', url: 'file:///p/a.js', require: false });
    await until(() => breaches.length > 0, 'the breach');
    expect(breaches).toEqual([breach]);
    port.close();
  });
});
