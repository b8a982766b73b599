/**
 * `require` of a plugin-owned folder resolves as Node's does: the folder's package.json `main`
 * first, then its index files; a change to that package.json is a change of the version.
 */
import { describe, expect, it } from 'vitest';
import { startGlean } from './helpers/glean.js';

const INDEX = "exports.run = () => require('./sub').x;\n";

describe('require of a folder', () => {
  it('takes the package.json main of the folder, then falls back to its index file', async () => {
    const { glean, temp } = await startGlean({
      files: {
        'p/index.cjs': INDEX,
        'p/sub/package.json': JSON.stringify({ main: 'lib/x' }),
        'p/sub/lib/x.js': "exports.x = 'main';\n",
        'p/sub/index.js': "exports.x = 'index';\n",
      },
      config: [{ id: 'A', file: 'p/index.cjs', name: 'run' }],
    });
    const run = await glean.reload<() => string>('A');
    expect(await run()).toBe('main');

    await temp.write('p/sub/package.json', JSON.stringify({ name: 'sub' }));
    await glean.reloadConfig();
    expect(await (await glean.reload<() => string>('A'))()).toBe('index');
  });

  it('refuses a main that leads outside the root', async () => {
    const { glean } = await startGlean({
      files: {
        'root/p/index.cjs': "const { x } = require('./sub');\nexports.run = () => x;\n",
        'root/p/sub/package.json': JSON.stringify({ main: '../../../outside.js' }),
        'outside.js': "exports.x = 'outside';\n",
      },
      config: [{ id: 'A', file: 'p/index.cjs', name: 'run' }],
      configName: 'root/plugin.json',
      load: false,
    });
    await expect(glean.loadConfig()).rejects.toMatchObject({ code: 'GLEAN_OUTSIDE_ROOT' });
  });
});
