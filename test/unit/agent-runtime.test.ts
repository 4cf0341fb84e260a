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
    expect(runtime.env).toEqual({ MALLOC_ARENA_MAX: '2' });
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
