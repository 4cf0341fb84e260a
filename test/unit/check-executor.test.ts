import { describe, expect, it, vi } from 'vitest';
import { CheckExecutor } from '../../src/agent/check-executor.js';
import type { Check, CheckSpec, RunContext } from '../../src/checks/check.js';
import { builtinRegistry } from '../../src/checks/registry.js';
import { systemClock } from '../../src/clock.js';
import type { Logger } from '../../src/log.js';
import { captureLog } from '../helpers/log-capture.js';

const spec: CheckSpec = {
  name: 'web-tcp',
  kind: 'tcp',
  target: { name: 'web', host: 'web.example', group: 'g', labels: {} },
  schedule: { type: 'interval', intervalMs: 1000 },
  timeoutMs: 500,
  settings: {},
};

/** A check that hands its context to `use` and passes. */
function checkUsing(use: (ctx: RunContext) => void): Check {
  return {
    spec,
    run: (ctx) => {
      use(ctx);
      return Promise.resolve([
        {
          check: spec.name,
          kind: 'tcp',
          target: 'web',
          ip: '192.0.2.1',
          ok: true,
          error: null,
          startedAt: '',
          durationMs: 1,
          phasesMs: {},
        },
      ]);
    },
  };
}

function executor(log: Logger): CheckExecutor {
  return new CheckExecutor({
    clock: systemClock,
    log,
    identity: () => ({ id: 'a', region: 'r', carrier: 'c', networkType: 'wifi', labels: {} }),
    registry: builtinRegistry(),
  });
}

describe('CheckExecutor', () => {
  it('gives a run a logger bound to its check, kind and target, made once and only when the run logs', async () => {
    const { log, lines } = captureLog();
    const child = vi.spyOn(log, 'child');
    const run = executor(log);

    await run.execute(
      checkUsing(() => undefined),
      new AbortController().signal,
    );
    expect(child).not.toHaveBeenCalled();

    const seen: RunContext[] = [];
    await run.execute(
      checkUsing((ctx) => {
        seen.push(ctx);
        ctx.log.warn('first');
        ctx.log.warn('second');
      }),
      new AbortController().signal,
    );
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map(({ msg, check, kind, target }) => ({ msg, check, kind, target }))).toEqual([
      { msg: 'first', check: 'web-tcp', kind: 'tcp', target: 'web' },
      { msg: 'second', check: 'web-tcp', kind: 'tcp', target: 'web' },
    ]);
    expect(seen[0]?.onProgress).toBeUndefined();
  });

  it('hands the run its signal, clock and progress callback', async () => {
    const { log } = captureLog();
    const signal = new AbortController().signal;
    const onProgress = (): void => undefined;
    let ctx: RunContext | undefined;
    await executor(log).execute(
      checkUsing((c) => (ctx = c)),
      signal,
      onProgress,
    );
    expect(ctx?.signal).toBe(signal);
    expect(ctx?.clock).toBe(systemClock);
    expect(ctx?.onProgress).toBe(onProgress);
  });
});
