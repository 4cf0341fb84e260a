import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, tempConfig, vantage } from '../helpers/agent-process.js';

// The CLI entry keeps V8's code of each command between runs (src/bin/code-cache.cts), real
// processes here. A cache file is written when there was none or V8 refused it, never otherwise:
// an unchanged file after a run means V8 took it.

let work: ReturnType<typeof tempConfig>;
beforeAll(() => {
  work = tempConfig(`agent: {id: cache}
targets:
  - {name: local, host: 127.0.0.1, checks: [{kind: tcp, port: 9, interval: 10s}]}
`);
});
afterAll(() => work.remove());

let dirs = 0;
function cacheDir(): string {
  const dir = join(work.dir, `cache-${++dirs}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

function files(dir: string): Array<{ name: string; mtimeMs: number; size: number }> {
  return readdirSync(dir).map((name) => {
    const st = statSync(join(dir, name));
    return { name, mtimeMs: st.mtimeMs, size: st.size };
  });
}

const validate = (dir: string, env: NodeJS.ProcessEnv = {}) =>
  vantage(['validate', '-c', work.file], { VANTAGE_CODE_CACHE: dir, ...env });

describe('the code cache of the CLI', () => {
  it('is written by a command’s first run and taken, unchanged, by the next', async () => {
    const dir = cacheDir();
    const first = await validate(dir);
    expect(first.code).toBe(0);
    const written = files(dir);
    expect(written.map((f) => f.name)).toEqual([expect.stringMatching(new RegExp(`^validate-${process.version}-`))]);
    // Taken after the command ran: it holds the functions the command called, not just the top level.
    expect(written[0]?.size).toBeGreaterThan(400_000);
    const second = await validate(dir);
    expect(second).toEqual(first);
    expect(files(dir)).toEqual(written);
  });

  it('keeps one cache per command, and none for a mistyped one', async () => {
    const dir = cacheDir();
    await validate(dir);
    const version = await vantage(['--version'], { VANTAGE_CODE_CACHE: dir });
    expect(version.code).toBe(0);
    const mistyped = await vantage(['valdate', '-c', work.file], { VANTAGE_CODE_CACHE: dir });
    expect(mistyped.code).toBe(2);
    expect(
      files(dir)
        .map((f) => f.name.split('-')[0])
        .sort(),
    ).toEqual(['other', 'validate']);
  });

  it('replaces a cache V8 refuses: made under other flags, or not a cache at all', async () => {
    const dir = cacheDir();
    await validate(dir, { NODE_OPTIONS: '--max-old-space-size=1234' });
    const [other] = files(dir);
    const plain = await validate(dir);
    expect(plain.code).toBe(0);
    const [rewritten] = files(dir);
    expect(rewritten?.name).toBe(other?.name);
    expect(rewritten?.mtimeMs).toBeGreaterThan(other?.mtimeMs ?? Infinity);

    writeFileSync(join(dir, rewritten?.name ?? ''), Buffer.alloc(4096, 0x5a));
    const garbled = await validate(dir);
    expect(garbled).toEqual(plain);
    // A cache again in its place, not the 4 kB of garbage.
    expect(files(dir)[0]?.size).toBeGreaterThan(400_000);
  });

  it('uses no directory another user could write code into or link to, and none when asked for none', async () => {
    const shared = cacheDir();
    chmodSync(shared, 0o777);
    expect((await validate(shared)).code).toBe(0);
    expect(files(shared)).toEqual([]);
    const none = await validate('');
    expect(none.code).toBe(0);
    // A link to a directory of ours is not followed: someone else may have left it in /tmp.
    const target = cacheDir();
    const link = join(work.dir, 'cache-link');
    symlinkSync(target, link);
    expect((await validate(link)).code).toBe(0);
    expect(files(target)).toEqual([]);
  });

  it('is written by the agent once it has started', async () => {
    const dir = cacheDir();
    const agent = AgentProcess.start(['run', '-c', work.file, '--listen', '127.0.0.1:0'], { VANTAGE_CODE_CACHE: dir });
    try {
      await agent.port();
      const deadline = Date.now() + 15_000;
      while (files(dir).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(files(dir).map((f) => f.name)).toEqual([expect.stringMatching(/^run-/)]);
    } finally {
      agent.kill();
    }
  }, 30_000);
});
