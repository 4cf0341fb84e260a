import { elapsedMs } from '../../clock.js';
import { abortedByDeadline, CheckFailure } from '../../errors.js';
import type { NetDeps } from '../../net/net-deps.js';
import type { Check, CheckResult, CheckSpec, CoreResult, RunContext } from '../check.js';
import { runPerIp } from '../per-ip.js';
import type { IpProbe } from '../per-ip.js';
import { trace } from './trace.js';
import type { TraceResult } from './trace.js';
import type { TracerouteFields, TracerouteSettings } from './traceroute-settings.js';

/**
 * Traceroute as a scheduled check: one flow-stable ICMP trace per selected address. It passes when
 * the destination answered; the path, its hash and whether it changed since the last run are in
 * the record (hop addresses never become labels).
 */
export class TracerouteCheck implements Check<TracerouteFields> {
  /** Route hash of the previous trace, per IP, to count route changes. */
  private readonly lastRoute = new Map<string, string>();

  constructor(
    readonly spec: CheckSpec<TracerouteSettings>,
    private readonly net: NetDeps,
  ) {}

  run(ctx: RunContext): Promise<CheckResult<TracerouteFields>[]> {
    return runPerIp<TracerouteFields>(this.spec, this.net, ctx, (target, base) => this.traceOne(ctx, target, base));
  }

  private async traceOne(ctx: RunContext, target: IpProbe, base: CoreResult): Promise<CheckResult<TracerouteFields>> {
    const s = this.spec.settings;
    const startNs = ctx.clock.monotonicNs();
    const result = await trace(this.net.icmp, ctx.clock, {
      address: target.address.address,
      family: target.address.family,
      maxHops: s.max_hops,
      probesPerHop: s.probes_per_hop,
      probeTimeoutMs: s.probe_timeout,
      signal: ctx.signal,
      ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
    });
    const cancelled = result.cancelled === true && !abortedByDeadline(ctx.signal);
    const partial = result.cancelled === true || result.failure !== undefined;
    const previous = this.lastRoute.get(target.address.address);
    // A partial path is no evidence of a new route.
    if (!partial) this.lastRoute.set(target.address.address, result.routeHash);
    const fields = traceFields(result, partial ? undefined : previous);
    const error = fields.reached
      ? null
      : cancelled
        ? new CheckFailure('ABORTED', `trace of ${target.address.address} was cancelled`, 'trace').toCheckError()
        : traceFailure(result, target.address.address).toCheckError();
    return {
      ...base,
      ...fields,
      ok: fields.reached,
      error,
      durationMs: elapsedMs(target.runStartNs, ctx.clock.monotonicNs()),
      phasesMs: { resolve: target.resolveMs, trace: elapsedMs(startNs, ctx.clock.monotonicNs()) },
    };
  }
}

function traceFields(result: TraceResult, previousHash?: string): TracerouteFields {
  return {
    reached: result.reached,
    hops: result.hops,
    routeHash: result.routeHash,
    lastRespondingHop: result.lastRespondingHop,
    hopCount: result.reached ? (result.hops.at(-1)?.ttl ?? 0) : result.lastRespondingHop,
    routeChanged: previousHash !== undefined && previousHash !== result.routeHash,
  };
}

function traceFailure(result: TraceResult, address: string): CheckFailure {
  if (result.failure) return result.failure;
  const last = result.hops.at(-1);
  if (last?.unreachable) {
    return new CheckFailure(
      'ICMP_UNREACHABLE',
      `${address}: destination unreachable (${last.unreachable}) at hop ${last.ttl} from ${last.addresses.join(', ')}`,
      'trace',
    );
  }
  const hop = result.hops[result.lastRespondingHop - 1];
  const where = hop ? `hop ${hop.ttl} (${hop.addresses.join(', ')})` : 'the first hop: nothing answered at all';
  return new CheckFailure('TRACE_INCOMPLETE', `${address} not reached: the path goes silent after ${where}`, 'trace');
}
