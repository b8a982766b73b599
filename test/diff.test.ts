import { describe, expect, test } from 'vitest';
import { DEFAULT_PLUGIN_OPTIONS } from '../packages/core/src/config.js';
import { diffPlugins, versionKey, type PluginSpec } from '../packages/core/src/diff.js';

function spec(id: string, overrides: Partial<PluginSpec> = {}): PluginSpec {
  return {
    id,
    file: `/plugins/${id}.js`,
    name: 'handler',
    version: '1.0',
    options: { ...DEFAULT_PLUGIN_OPTIONS },
    contentHash: 'h1',
    ...overrides,
  };
}

const ids = (specs: readonly PluginSpec[]): string[] => specs.map((s) => s.id);

describe('diffPlugins', () => {
  test('sorts every id into added, changed, removed or unchanged', () => {
    const diff = diffPlugins(
      [spec('keep'), spec('edit'), spec('drop')],
      [spec('keep'), spec('edit', { version: '2.0' }), spec('new')],
    );
    expect(ids(diff.added)).toEqual(['new']);
    expect(diff.changed).toEqual([{ from: spec('edit'), to: spec('edit', { version: '2.0' }) }]);
    expect(ids(diff.removed)).toEqual(['drop']);
    expect(ids(diff.unchanged)).toEqual(['keep']);
  });

  test('empty sets', () => {
    expect(diffPlugins([], [])).toEqual({ added: [], changed: [], removed: [], unchanged: [] });
    expect(ids(diffPlugins([], [spec('a')]).added)).toEqual(['a']);
    expect(ids(diffPlugins([spec('a')], []).removed)).toEqual(['a']);
  });

  test.each<[string, Partial<PluginSpec>]>([
    ['file', { file: '/plugins/other.js' }],
    ['name', { name: 'otherHandler' }],
    ['version', { version: '1.1' }],
    ['version added where there was none', { version: '' }],
    ['options (a scalar)', { options: { ...DEFAULT_PLUGIN_OPTIONS, threads: 2 } }],
    ['options (timeoutMs set)', { options: { ...DEFAULT_PLUGIN_OPTIONS, timeoutMs: 100 } }],
    ['options (resourceLimits, deep)', { options: { ...DEFAULT_PLUGIN_OPTIONS, resourceLimits: { stackSizeMb: 8 } } }],
    ['contentHash', { contentHash: 'h2' }],
  ])('a different %s is a change', (_what, overrides) => {
    const from = spec('a');
    const to = spec('a', overrides);
    expect(diffPlugins([from], [to])).toEqual({ added: [], changed: [{ from, to }], removed: [], unchanged: [] });
  });

  test('options are compared deeply, not by identity', () => {
    const limits = (): PluginSpec['options'] => ({
      ...DEFAULT_PLUGIN_OPTIONS,
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    });
    const diff = diffPlugins([spec('a', { options: limits() })], [spec('a', { options: limits() })]);
    expect(ids(diff.unchanged)).toEqual(['a']);
    expect(diff.changed).toEqual([]);
  });

  test('unchanged holds the latest spec', () => {
    const latest = spec('a');
    expect(diffPlugins([spec('a')], [latest]).unchanged[0]).toBe(latest);
  });

  test('added, changed and unchanged follow the latest order; removed follows the current order', () => {
    const current = [spec('r2'), spec('c1'), spec('u1'), spec('r1'), spec('c2'), spec('u2')];
    const latest = [
      spec('u2'),
      spec('c2', { contentHash: 'x' }),
      spec('a2'),
      spec('u1'),
      spec('c1', { contentHash: 'x' }),
      spec('a1'),
    ];
    const diff = diffPlugins(current, latest);
    expect(ids(diff.added)).toEqual(['a2', 'a1']);
    expect(diff.changed.map((c) => c.to.id)).toEqual(['c2', 'c1']);
    expect(ids(diff.unchanged)).toEqual(['u2', 'u1']);
    expect(ids(diff.removed)).toEqual(['r2', 'r1']);
  });

  test('takes any iterable', () => {
    const running = new Map([['a', spec('a')]]);
    function* latest(): Generator<PluginSpec> {
      yield spec('b');
    }
    const diff = diffPlugins(running.values(), latest());
    expect(ids(diff.added)).toEqual(['b']);
    expect(ids(diff.removed)).toEqual(['a']);
  });

  test('an id repeated within one set is a caller bug and throws', () => {
    expect(() => diffPlugins([], [spec('a'), spec('a')])).toThrow(TypeError);
    expect(() => diffPlugins([spec('a'), spec('a')], [])).toThrow('id "a" appears twice in current');
  });
});

describe('versionKey', () => {
  test('two ids sharing file, version, options and content have one key, whatever their names', () => {
    const a = spec('A', { file: '/plugins/shared.js', name: 'FooHandler' });
    const b = spec('B', { file: '/plugins/shared.js', name: 'BarHandler', options: { ...DEFAULT_PLUGIN_OPTIONS } });
    expect(versionKey(a)).toBe(versionKey(b));
    expect(typeof versionKey(a)).toBe('string');
    expect(versionKey(a)).toBe(versionKey(spec('A', { file: '/plugins/shared.js', name: 'FooHandler' })));
  });

  test.each<[string, Partial<PluginSpec>]>([
    ['file', { file: '/plugins/other.js' }],
    ['version', { version: '2.0' }],
    ['contentHash', { contentHash: 'h2' }],
    ['threads', { options: { ...DEFAULT_PLUGIN_OPTIONS, threads: 2 } }],
    ['timeoutMs', { options: { ...DEFAULT_PLUGIN_OPTIONS, timeoutMs: 1000 } }],
    [
      'maxQueue Infinity vs the largest integer',
      { options: { ...DEFAULT_PLUGIN_OPTIONS, maxQueue: Number.MAX_SAFE_INTEGER } },
    ],
    ['resourceLimits', { options: { ...DEFAULT_PLUGIN_OPTIONS, resourceLimits: { stackSizeMb: 4 } } }],
  ])('differs when %s differs', (_what, overrides) => {
    const base = spec('a', { file: '/plugins/shared.js' });
    expect(versionKey(spec('b', { file: '/plugins/shared.js', ...overrides }))).not.toBe(versionKey(base));
  });

  test('does not confuse fields whose text runs together', () => {
    expect(versionKey(spec('a', { file: '/p/a', version: 'b' }))).not.toBe(
      versionKey(spec('a', { file: '/p/ab', version: '' })),
    );
  });
});
