import { describe, expect, it } from 'vitest';
import { ABANDON_GRACE_MS, runCheck } from '../../../src/agent/run-check.js';
import type { Check, CheckResult } from '../../../src/checks/check.js';
import { RunCancelled, RunDeadlineExceeded } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { captureLog } from '../../helpers/log-capture.js';

const silent = createLogger('silent');

const spec = {
  name: 'web-tcp',
  kind: 'tcp',
  target: { name: 'web', host: 'web.example', group: '', labels: {} },
  schedule: { type: 'interval' as const, intervalMs: 30_000 },
  timeoutMs: 5_000,
  settings: {},
};

const checkOf = (run: Check['run']): Check => ({ spec, run });
const throwing = (err: unknown): Check => checkOf(() => Promise.reject(err));
const stuck = (): Check => checkOf(() => new Promise(() => undefined));

describe('runCheck', () => {
  it('turns a throwing check into an INTERNAL record and logs it', async () => {
    const { lines, log } = captureLog('error');
    const clock = new FakeClock();
    const [result] = await runCheck(throwing(new TypeError('boom')), {
      signal: new AbortController().signal,
      clock,
      log,
    });
    expect(result).toMatchObject({
      ok: false,
      check: 'web-tcp',
      error: { code: 'INTERNAL', message: 'boom', phase: 'run' },
    });
    expect(lines.map((line) => line['msg'])).toEqual(['check threw instead of returning a result']);
  });

  it.each([
    ['the deadline', new RunDeadlineExceeded(100), 'TIMEOUT'],
    ['a cancellation', new RunCancelled('reload'), 'ABORTED'],
  ])('codes a throw caused by %s as %s', async (_what, reason, code) => {
    const controller = new AbortController();
    controller.abort(reason);
    const [result] = await runCheck(throwing(controller.signal.reason), {
      signal: controller.signal,
      clock: new FakeClock(),
      log: silent,
    });
    expect(result?.error?.code).toBe(code);
  });

  it('turns a check that throws before returning its promise into an INTERNAL record', async () => {
    const check = checkOf(() => {
      throw new RangeError('at once');
    });
    const [result] = await runCheck(check, {
      signal: new AbortController().signal,
      clock: new FakeClock(),
      log: silent,
    });
    expect(result?.error).toEqual({ code: 'INTERNAL', message: 'at once', phase: 'run' });
  });

  it('turns a check that resolved to something other than a list into an INTERNAL record', async () => {
    const { lines, log } = captureLog('error');
    const check = checkOf(() => Promise.resolve(undefined as unknown as CheckResult[]));
    const [result] = await runCheck(check, { signal: new AbortController().signal, clock: new FakeClock(), log });
    expect(result?.error).toEqual({
      code: 'INTERNAL',
      message: 'the check returned undefined, not a list of results',
      phase: 'run',
    });
    expect(lines.map((line) => line['msg'])).toEqual(['check threw instead of returning a result']);
  });

  it('gives an INTERNAL record for a check that returned no result', async () => {
    const results = await runCheck(
      checkOf(async () => []),
      { signal: new AbortController().signal, clock: new FakeClock(), log: silent },
    );
    expect(results).toEqual([
      expect.objectContaining({
        ok: false,
        error: { code: 'INTERNAL', message: 'the check returned no result', phase: 'run' },
      }),
    ]);
  });

  it("returns the check's own records untouched", async () => {
    const record: CheckResult = {
      check: 'web-tcp',
      kind: 'tcp',
      target: 'web',
      ip: '192.0.2.1',
      ok: true,
      error: null,
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 3,
      phasesMs: { connect: 3 },
    };
    const results = await runCheck(
      checkOf(async () => [record]),
      { signal: new AbortController().signal, clock: new FakeClock(), log: silent },
    );
    expect(results).toEqual([record]);
  });
});

describe('runCheck and a check that ignores its signal', () => {
  it('abandons it shortly after the deadline with a TIMEOUT record', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const pending = runCheck(stuck(), { signal: controller.signal, clock, log: silent });
    await clock.advance(1_000);
    controller.abort(new RunDeadlineExceeded(1_000));
    await clock.advance(ABANDON_GRACE_MS - 1);
    let settled = false;
    void pending.then(() => (settled = true));
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    const [result] = await pending;
    expect(result).toMatchObject({ ok: false, error: { code: 'TIMEOUT', phase: 'run' } });
    expect(result?.durationMs).toBe(1_000 + ABANDON_GRACE_MS);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('abandons it with an ABORTED record when the run was cancelled', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const pending = runCheck(stuck(), { signal: controller.signal, clock, log: silent });
    controller.abort(new RunCancelled('agent stopping'));
    await clock.advance(ABANDON_GRACE_MS);
    const [result] = await pending;
    expect(result).toMatchObject({
      ok: false,
      error: {
        code: 'ABORTED',
        message: `the check did not stop within ${ABANDON_GRACE_MS} ms of its cancellation`,
        phase: 'run',
      },
    });
  });

  it('keeps the abandonment record and logs nothing more when the check fails after it', async () => {
    const { lines, log } = captureLog('error');
    const clock = new FakeClock();
    const controller = new AbortController();
    let fail: (err: Error) => void = () => undefined;
    const late = checkOf(() => new Promise((_resolve, reject) => (fail = reject)));
    const pending = runCheck(late, { signal: controller.signal, clock, log });
    controller.abort(new RunDeadlineExceeded(5));
    await clock.advance(ABANDON_GRACE_MS);
    const [result] = await pending;
    fail(new Error('too late'));
    await clock.advance(0);
    expect(result?.error?.code).toBe('TIMEOUT');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.['msg']).toBe('check ignored its deadline and was abandoned');
  });

  it('leaves no timer behind when the check finishes in time', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const finishing = checkOf(async () => {
      await clock.advance(10);
      return [
        {
          check: 'web-tcp',
          kind: 'tcp',
          target: 'web',
          ok: true,
          error: null,
          startedAt: '',
          durationMs: 10,
          phasesMs: {},
        },
      ];
    });
    await runCheck(finishing, { signal: controller.signal, clock, log: silent });
    controller.abort(new RunDeadlineExceeded(1));
    expect(clock.pendingTimers()).toBe(0);
  });
});
