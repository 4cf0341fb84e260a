import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentRuntime, parseStartScript } from '../../bench/lib/agent-runtime.mjs';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the agent process settings (npm start)', () => {
  it('reads the environment and the Node flags before the entry point', () => {
    expect(parseStartScript('A=1 B_2=x node --one --two=3 dist/bin/vantage.cjs run -c c.yaml')).toEqual({
      env: { A: '1', B_2: 'x' },
      nodeArgs: ['--one', '--two=3'],
    });
    expect(parseStartScript('node dist/bin/vantage.cjs run')).toEqual({ env: {}, nodeArgs: [] });
    expect(() => parseStartScript('A=1 tsx src/cli.ts')).toThrow(/expected "node"/);
  });

  const runtime = agentRuntime();

  it('caps the young generation and the allocator arenas', () => {
    expect(runtime.nodeArgs).toContain('--max-semi-space-size=4');
    expect(runtime.env).toEqual({ MALLOC_ARENA_MAX: '1' });
  });

  it('are settings this Node takes, and its young generation stays within the cap', () => {
    // Allocates steadily with many objects alive, as a busy agent does, then prints V8's new space.
    const probe =
      'const kept = []; for (let i = 0; i < 4e6; i++) { kept.push({ i }); if (kept.length > 3e5) kept.length = 0; }' +
      "process.stdout.write(String(require('node:v8').getHeapSpaceStatistics()" +
      ".find((s) => s.space_name === 'new_space').space_size))";
    const newSpace = (nodeArgs: string[]): number =>
      Number(execFileSync(process.execPath, [...nodeArgs, '-e', probe], { env: { ...process.env, ...runtime.env } }));
    const capped = 2 * 4 * 1024 * 1024;
    expect(newSpace(runtime.nodeArgs)).toBeLessThanOrEqual(capped);
    // Without the flag the same allocation grows it past the cap: the probe would notice a flag ignored.
    expect(newSpace([])).toBeGreaterThan(capped);
  });

  it('are the image entrypoint and environment', () => {
    const runtimeStage =
      read('Dockerfile')
        .split(/^FROM /m)
        .at(-1) ?? '';
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(runtimeStage)?.[1];
    expect(JSON.parse(entrypoint ?? '[]')).toEqual(['node', ...runtime.nodeArgs, '/app/dist/bin/vantage.cjs']);
    const env = /^ENV (.*)$/m.exec(runtimeStage)?.[1]?.split(/\s+/) ?? [];
    for (const [name, value] of Object.entries(runtime.env)) expect(env).toContain(`${name}=${value}`);
  });

  it('are the systemd unit command line and environment', () => {
    const unit = read('deploy/fleet/systemd/vantage.service');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(' ') ?? [];
    expect(execStart.slice(0, runtime.nodeArgs.length + 2)).toEqual([
      '/usr/bin/node',
      ...runtime.nodeArgs,
      '/opt/vantage/dist/bin/vantage.cjs',
    ]);
    for (const [name, value] of Object.entries(runtime.env)) expect(unit).toContain(`\nEnvironment=${name}=${value}\n`);
  });
});
