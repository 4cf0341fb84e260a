import { elapsedMs } from '../clock.js';
import { abortedByDeadline } from '../errors.js';
import type { CheckError } from '../errors.js';
import type { Check, CheckResult, RunContext } from './check.js';
import { baseResult } from './per-ip.js';

/**
 * Runs a check and guarantees at least one result. A check must not throw for a target failure;
 * if one throws anyway (a bug) the run still yields a record, coded INTERNAL (or by the deadline
 * when the throw came from an abort), so a bug shows up on a dashboard instead of as silence.
 */
export async function runCheck(check: Check, ctx: RunContext): Promise<CheckResult[]> {
  const startNs = ctx.clock.monotonicNs();
  const startWall = ctx.clock.wallMs();
  try {
    const results = await check.run(ctx);
    if (results.length > 0) return results;
    return [failed('INTERNAL', 'the check returned no result')];
  } catch (err) {
    ctx.log.error({ err }, 'check threw instead of returning a result');
    if (ctx.signal.aborted) {
      const deadline = abortedByDeadline(ctx.signal);
      return [failed(deadline ? 'TIMEOUT' : 'ABORTED', String(ctx.signal.reason))];
    }
    return [failed('INTERNAL', err instanceof Error ? err.message : String(err))];
  }

  function failed(code: CheckError['code'], message: string): CheckResult {
    const durationMs = elapsedMs(startNs, ctx.clock.monotonicNs());
    return { ...baseResult(check.spec, startWall), durationMs, error: { code, message, phase: 'run' } };
  }
}
