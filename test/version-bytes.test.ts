/**
 * A version is the bytes the host read and hashed: its workers must run those bytes, whatever is
 * saved to the file after the read. Each test saves the file again at the one moment that matters,
 * right after the host's read of it (its FileHandle is closed), so the race is the same every run.
 *
 * With or without `integrity`: the host reads and hashes the file once, and its workers get those
 * bytes from the host (the version's module graph), never the file's path, so a save landing after
 * the read runs nowhere until a reload makes a version of it. A crashed worker's restart reads
 * nothing from disk at all.
 */
import { createHash } from 'node:crypto';
import { readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Glean, Handle, ReloadEvent } from '@glean/core';
import { hashForIntegrity } from '../packages/core/src/integrity.js';
import { nextEvent, onCleanup, tempDir, until, type TempDir } from './helpers/index.js';
import { startGlean } from './helpers/glean.js';

interface Api {
  tag(): string;
  exit(): never;
}

const plugin = (tag: string): string =>
  `export const Plugin = { tag() { return '${tag}'; }, exit() { process.exit(1); } };\n`;
/** A version's contentHash: the sha256 of its bytes. */
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Once armed, saves `content` over `file` (renamed over it, as editors save) as soon as the host has
 * read `file` through a FileHandle, before the read's caller gets the bytes. Every read of glean's
 * goes through a FileHandle (read-file.ts); the hook is removed after the test. Tests do not wait for
 * the save: a fixed glean may not read the file again at all.
 */
async function saveRightAfterHostRead(file: string): Promise<{ arm(content: string): void; saved(): boolean }> {
  type Read = (this: { fd: number }, ...args: unknown[]) => Promise<unknown>;
  const probe = await open(file);
  const proto = Object.getPrototypeOf(probe) as { read: Read };
  await probe.close();
  const read = proto.read;
  let armed: string | undefined;
  let saved = false;
  proto.read = async function (this: { fd: number }, ...args: unknown[]) {
    const result = await read.apply(this, args);
    if (armed !== undefined && readlinkSync(`/proc/self/fd/${this.fd}`) === file) {
      const content = armed;
      armed = undefined;
      writeFileSync(`${file}.saving`, content);
      renameSync(`${file}.saving`, file);
      saved = true;
    }
    return result;
  };
  onCleanup(() => {
    proto.read = read;
  });
  return {
    arm(content) {
      armed = content;
      saved = false;
    },
    saved: () => saved,
  };
}

/** A Glean serving p.mjs (answering 'v1') as `P`, without integrity and without spare threads. */
async function servingV1(): Promise<{ temp: TempDir; file: string; glean: Glean; p: Handle<Api> }> {
  const temp = await tempDir();
  const file = await temp.write('p.mjs', plugin('v1'));
  const { glean } = await startGlean({ temp, config: [{ id: 'P', file: 'p.mjs', name: 'Plugin' }], prewarm: false });
  const p = await glean.reloadAndWatch<Api>('P');
  expect(await p.tag()).toBe('v1');
  return { temp, file, glean, p };
}

describe('the bytes a version runs', () => {
  it('a reload runs the bytes it hashed, not a save that lands before its worker imports the file', async () => {
    const { temp, file, glean, p } = await servingV1();

    await temp.replace('p.mjs', plugin('v2'));
    const hook = await saveRightAfterHostRead(file);
    hook.arm(plugin('v3'));
    const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
    await glean.reloadConfig();
    expect(hook.saved()).toBe(true);
    // The version is the bytes the host read: v2.
    expect((await reloaded).to.contentHash).toBe(sha256(plugin('v2')));
    expect(await p.tag()).toBe('v2');
  });

  it('a crashed worker restarts on the bytes of its version, whatever was saved since: the restart reads nothing from disk', async () => {
    const { temp, file, glean, p } = await servingV1();

    await temp.replace('p.mjs', plugin('v2'));
    // Armed to save v3 after any read of the file by the host: a restart that read it would set it off.
    const hook = await saveRightAfterHostRead(file);
    hook.arm(plugin('v3'));
    await expect(p.exit()).rejects.toMatchObject({ code: 'GLEAN_PLUGIN_CRASHED' });
    await until(() => glean.status()['P']?.threads.some((t) => t.ready) === true, 'the restarted worker');
    expect(glean.status()['P']).toMatchObject({ state: 'ready', restarts: 1 });
    expect(await p.tag()).toBe('v1');
    expect(hook.saved()).toBe(false);
  });

  it('with integrity, a reload runs the bytes it hashed whatever is saved after the read', async () => {
    const temp = await tempDir();
    const file = await temp.write('p.mjs', plugin('v1'));
    const entry = (source: string): object[] => [
      { id: 'P', file: 'p.mjs', name: 'Plugin', integrity: hashForIntegrity(Buffer.from(source)) },
    ];
    const { glean } = await startGlean({ temp, config: entry(plugin('v1')), prewarm: false });
    const p = await glean.reloadAndWatch<Api>('P');

    await temp.replace('p.mjs', plugin('v2'));
    await temp.replace('plugin.json', entry(plugin('v2')));
    const hook = await saveRightAfterHostRead(file);
    hook.arm(plugin('v3'));
    const loaded = nextEvent<ReloadEvent>(glean, 'reload');
    await glean.reloadConfig();
    expect(hook.saved()).toBe(true);
    expect((await loaded).to.contentHash).toBe(sha256(plugin('v2')));
    expect(await p.tag()).toBe('v2');
  });
});
