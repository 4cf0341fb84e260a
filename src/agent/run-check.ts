import { elapsedMs } from '../clock.js';
import { abortedByDeadline } from '../errors.js';
import type { CheckError } from '../errors.js';
import type { Check, CheckResult, RunContext } from '../checks/check.js';
import { baseResult } from '../checks/per-ip.js';

/** How long a check may take to wind down after its signal fires before it is abandoned. */
export const ABANDON_GRACE_MS = 250;

/**
 * Runs a check and guarantees a timely result. A check must not throw for a target failure and
 * must stop when its signal fires; if it throws anyway (a bug) the run still yields a record coded
 * INTERNAL, and if it ignores the signal it is abandoned ABANDON_GRACE_MS later with a TIMEOUT
 * (or ABORTED) record, so a stuck check shows on a dashboard and frees its run slot.
 */
export async function runCheck(check: Check, ctx: RunContext): Promise<CheckResult[]> {
  const startNs = ctx.clock.monotonicNs();
  const startWall = ctx.clock.wallMs();
  const failed = (code: CheckError['code'], message: string): CheckResult[] => {
    const durationMs = elapsedMs(startNs, ctx.clock.monotonicNs());
    return [{ ...baseResult(check.spec, startWall), durationMs, error: { code, message, phase: 'run' } }];
  };
  const abortCode = (): CheckError['code'] => (abortedByDeadline(ctx.signal) ? 'TIMEOUT' : 'ABORTED');

  let cancelGrace: (() => void) | undefined;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<CheckResult[]>((resolve) => {
    onAbort = () => {
      cancelGrace = ctx.clock.setTimer(ABANDON_GRACE_MS, () => {
        ctx.log.error('check ignored its deadline and was abandoned');
        resolve(
          failed(
            abortCode(),
            `the check did not stop within ${ABANDON_GRACE_MS} ms of its ` +
              `${abortCode() === 'TIMEOUT' ? 'deadline' : 'cancellation'}`,
          ),
        );
      });
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const results = await Promise.race([check.run(ctx), abandoned]);
    return results.length > 0 ? results : failed('INTERNAL', 'the check returned no result');
  } catch (err) {
    ctx.log.error({ err }, 'check threw instead of returning a result');
    if (ctx.signal.aborted) return failed(abortCode(), String(ctx.signal.reason));
    return failed('INTERNAL', err instanceof Error ? err.message : String(err));
  } finally {
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
    cancelGrace?.();
  }
}
