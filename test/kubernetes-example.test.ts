/**
 * examples/kubernetes stays what its README says: the ConfigMap holds a config glean accepts, naming
 * plugin files the image holds; the Deployment mounts it as a folder (never subPath) where the image
 * points DEMO_CONFIG, and probes readiness on the status route.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../packages/core/src/config.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string): string => readFileSync(join(REPO, 'examples/kubernetes', file), 'utf8');

/** The `plugin.json: |` block of configmap.yaml, its indentation removed. */
function configMapPluginJson(): string {
  const lines = read('configmap.yaml').split('\n');
  const start = lines.findIndex((line) => /^ {2}plugin\.json: \|$/.test(line));
  expect(start).toBeGreaterThan(-1);
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line !== '' && !line.startsWith('    ')) break;
    block.push(line.slice(4));
  }
  return block.join('\n');
}

/** The value the Dockerfile's ENV gives `name`. */
const imageEnv = (name: string): string | undefined => new RegExp(`\\b${name}=(\\S+)`).exec(read('Dockerfile'))?.[1];

describe('examples/kubernetes', () => {
  it("the ConfigMap's plugin.json is a config glean accepts, naming plugin files the image holds", () => {
    const configPath = imageEnv('DEMO_CONFIG');
    const root = imageEnv('DEMO_ROOT');
    expect(configPath).toBe('/etc/glean/plugin.json');
    expect(root).toBe('/app');
    const config = parseConfig(configMapPluginJson(), configPath!);
    expect(config.plugins.map(({ id }) => id)).toEqual(['FooHandlerID']);
    for (const { file } of config.plugins) {
      // The image copies the repository to /app.
      expect(file.startsWith(`${root}/`)).toBe(true);
      expect(existsSync(join(REPO, file.slice(root!.length)))).toBe(true);
    }
  });

  it('the Deployment mounts the ConfigMap as the folder DEMO_CONFIG is in, without subPath, and probes /glean/status', () => {
    const deployment = read('deployment.yaml');
    expect(deployment).not.toMatch(/^\s*subPath:/m);
    expect(deployment).toMatch(new RegExp(`mountPath: ${dirname(imageEnv('DEMO_CONFIG')!)}\\n`));
    expect(deployment).toMatch(/name: glean-plugins/);
    expect(deployment).toMatch(/readinessProbe:\s+httpGet:\s+path: \/glean\/status/);
    expect(read('configmap.yaml')).toMatch(/name: glean-plugins/);
    expect(existsSync(join(REPO, /CMD \["node", "([^"]+)"\]/.exec(read('Dockerfile'))![1]!))).toBe(true);
  });
});
