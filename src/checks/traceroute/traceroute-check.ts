import { elapsedMs } from '../../clock.js';
import { abortedByDeadline, CheckFailure } from '../../errors.js';
import type { NetDeps } from '../../net/net-deps.js';
import type { Check, CheckResult, CheckSpec, CoreResult, RunContext } from '../check.js';
import { runPerIp } from '../per-ip.js';
import type { IpProbe } from '../per-ip.js';
import { PathMemory } from './path-memory.js';
import { trace } from './trace.js';
import type { TraceResult } from './trace.js';
import type { TracerouteFields, TracerouteSettings } from './traceroute-settings.js';

/**
 * Traceroute as a scheduled check: one flow-stable ICMP trace per selected address. It passes when
 * the destination answered; the path, its hash and whether it changed since the last run are in
 * the record (hop addresses never become labels). Each IP's recent traces are remembered (PathMemory),
 * so a warm check gives known-silent hops up quickly and waits for known-late routers.
 */
export class TracerouteCheck implements Check<TracerouteFields> {
  /** Recent traces per IP: route changes and the give-up waits of the next trace. */
  private readonly memory = new PathMemory();

  constructor(
    readonly spec: CheckSpec<TracerouteSettings>,
    private readonly net: NetDeps,
  ) {}

  async run(ctx: RunContext): Promise<CheckResult<TracerouteFields>[]> {
    const results = await runPerIp<TracerouteFields>(this.spec, this.net, ctx, (target, base) =>
      this.traceOne(ctx, target, base),
    );
    // IPs the name no longer resolves to are forgotten; a run with none (the resolver failed)
    // keeps what it has.
    const traced = new Set(results.flatMap((r) => (r.ip ? [r.ip] : [])));
    if (traced.size > 0) this.memory.retain(traced);
    return results;
  }

  private async traceOne(ctx: RunContext, target: IpProbe, base: CoreResult): Promise<CheckResult<TracerouteFields>> {
    const s = this.spec.settings;
    const startNs = ctx.clock.monotonicNs();
    const address = target.address.address;
    const recall = this.memory.recall(address);
    const result = await trace(this.net.icmp, ctx.clock, {
      address,
      family: target.address.family,
      maxHops: s.max_hops,
      probesPerHop: s.probes_per_hop,
      probeTimeoutMs: s.probe_timeout,
      signal: ctx.signal,
      ...(recall ? { recall } : {}),
      ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
    });
    const cancelled = result.cancelled === true && !abortedByDeadline(ctx.signal);
    const partial = result.cancelled === true || result.failure !== undefined;
    const previous = this.memory.lastRoute(address);
    // A partial path is no evidence of a new route, nor of a silent hop.
    if (!partial) this.memory.learn(address, result, recall?.fullWait === false);
    const fields = traceFields(result, partial ? undefined : previous);
    const error = fields.reached
      ? null
      : cancelled
        ? new CheckFailure('ABORTED', `trace of ${address} was cancelled`, 'trace').toCheckError()
        : traceFailure(result, address).toCheckError();
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
