import { elapsedMs, pause } from '../../clock.js';
import { abortedByDeadline, CheckFailure } from '../../errors.js';
import type { DuplicateTally, EchoOutcome } from '../../net/icmp/echo.js';
import { unreachableReason } from '../../net/icmp/packet.js';
import type { NetDeps } from '../../net/net-deps.js';
import type { Check, CheckResult, CheckSpec, CoreResult, RunContext } from '../check.js';
import { runPerIp } from '../per-ip.js';
import type { IpProbe } from '../per-ip.js';
import type { IcmpFields, IcmpSettings } from './icmp-settings.js';
import { rttStats } from './rtt-stats.js';

/**
 * ICMP echo ("ping") check: resolve, then `count` echo requests per address, `spacing` apart,
 * all through the agent's shared raw socket. RTT = kernel receive stamp minus the stamp taken
 * right before sendmsg, so event-loop delays do not show up as network latency. A run passes
 * when at least one reply came back; loss is reported, not failed on (alert on the loss metric).
 */
export class PingCheck implements Check<IcmpFields> {
  constructor(
    readonly spec: CheckSpec<IcmpSettings>,
    private readonly net: NetDeps,
  ) {}

  run(ctx: RunContext): Promise<CheckResult<IcmpFields>[]> {
    return runPerIp<IcmpFields>(this.spec, this.net, ctx, (target, base) => this.pingOne(ctx, target, base));
  }

  private async pingOne(ctx: RunContext, target: IpProbe, base: CoreResult): Promise<CheckResult<IcmpFields>> {
    const s = this.spec.settings;
    const spacing = s.spacing;
    const startNs = ctx.clock.monotonicNs();
    // The run's own object (the engine keeps it 30 s past the run), holding nothing of the run.
    const duplicates: DuplicateTally = { count: 0 };
    const outcomes: Array<Promise<EchoOutcome>> = [];
    for (let i = 0; i < s.count && !ctx.signal.aborted; i++) {
      if (i > 0) await pause(ctx.clock, spacing, ctx.signal);
      if (ctx.signal.aborted) break;
      outcomes.push(
        this.net.icmp.echo({
          address: target.address.address,
          family: target.address.family,
          ttl: s.ttl,
          tos: s.tos,
          payloadSize: s.payload_size,
          dontFragment: s.dont_fragment,
          source: s.source_address ?? '',
          timeoutMs: s.packet_timeout,
          signal: ctx.signal,
          duplicates,
        }),
      );
    }
    // One request, the usual case at scale: no Promise.all (every run).
    const [one] = outcomes;
    const settled = one && outcomes.length === 1 ? [await one] : await Promise.all(outcomes);
    const pingMs = elapsedMs(startNs, ctx.clock.monotonicNs());
    const { replies, otherAddress, failed, icmpError, aborted, sent } = tally(settled);
    // Requests the deadline cut short count as lost; a cancelled run reports ABORTED.
    const cancelled = aborted && !abortedByDeadline(ctx.signal);
    const rttsMs = replies.map((r) => Number(r.rttNs) / 1e6);
    const fields: IcmpFields = {
      sent,
      received: replies.length,
      // A reply from another address is an answer, not a loss (it has a finding of its own).
      loss: sent === 0 ? 1 : (sent - replies.length - otherAddress.length) / sent,
      duplicates: duplicates.count,
      otherAddressReplies: otherAddress.map((o) => ({ from: o.from, rttMs: Number(o.rttNs) / 1e6 })),
      rttMs: rttStats(rttsMs),
      rttsMs,
      replyTtl: replies.at(-1)?.ttl ?? null,
      icmpError: icmpError
        ? {
            type: icmpError.status,
            code: icmpError.code,
            reason:
              icmpError.status === 'unreachable'
                ? unreachableReason(target.address.family, icmpError.code)
                : icmpError.status,
            from: icmpError.from,
          }
        : null,
    };
    const ok = replies.length > 0;
    const error = ok ? null : failureOf(cancelled, failed, fields, sent, target.address.address).toCheckError();
    // The per-IP base is this probe's own: filled in place (spreads of it were the run's largest allocation).
    return Object.assign(base, fields, {
      ok,
      error,
      durationMs: elapsedMs(target.runStartNs, ctx.clock.monotonicNs()),
      phasesMs: { resolve: target.resolveMs, ping: pingMs },
    });
  }
}

type Reply = Extract<EchoOutcome, { status: 'reply' }>;
type OtherAddressReply = Extract<EchoOutcome, { status: 'reply-other-address' }>;
type Failed = Extract<EchoOutcome, { status: 'failed' }>;
type IcmpErrorOutcome = Extract<EchoOutcome, { code: number }>;

/** The outcomes of a run's requests sorted out in one pass (the first failure and ICMP error). */
function tally(settled: readonly EchoOutcome[]): {
  replies: Reply[];
  otherAddress: OtherAddressReply[];
  failed: Failed | undefined;
  icmpError: IcmpErrorOutcome | undefined;
  aborted: boolean;
  sent: number;
} {
  const replies: Reply[] = [];
  const otherAddress: OtherAddressReply[] = [];
  let failed: Failed | undefined;
  let icmpError: IcmpErrorOutcome | undefined;
  let aborted = false;
  let sent = 0;
  for (const o of settled) {
    if (o.status === 'failed') {
      failed ??= o;
      continue;
    }
    sent++;
    if (o.status === 'reply') replies.push(o);
    else if (o.status === 'reply-other-address') otherAddress.push(o);
    else if (o.status === 'aborted') aborted = true;
    else if ('code' in o) icmpError ??= o;
  }
  return { replies, otherAddress, failed, icmpError, aborted, sent };
}

function failureOf(
  cancelled: boolean,
  failed: Extract<EchoOutcome, { status: 'failed' }> | undefined,
  fields: IcmpFields,
  sent: number,
  address: string,
): CheckFailure {
  if (cancelled) return new CheckFailure('ABORTED', `ping of ${address} was cancelled`, 'ping');
  if (failed) return failed.failure;
  const others = fields.otherAddressReplies;
  if (others.length > 0) {
    const from = [...new Set(others.map((o) => o.from))].join(', ');
    const rtts = others.map((o) => `${o.rttMs.toFixed(3)} ms`).join(' ');
    return new CheckFailure(
      'ICMP_OTHER_ADDRESS',
      `${address} did not answer, but ${from} answered ${others.length} of ${sent} echo request` +
        `${sent === 1 ? '' : 's'} to it (rtt ${rtts}): NAT, anycast or a misrouted responder`,
      'ping',
    );
  }
  const err = fields.icmpError;
  if (err?.type === 'unreachable' || err?.type === 'packet-too-big') {
    return new CheckFailure(
      'ICMP_UNREACHABLE',
      `${address}: destination unreachable (${err.type === 'unreachable' ? err.reason : 'packet too big'}) from ` +
        `${err.from}`,
      'ping',
    );
  }
  if (err?.type === 'time-exceeded')
    return new CheckFailure('ICMP_TTL_EXCEEDED', `${address}: time to live exceeded at ${err.from}`, 'ping');
  if (err?.type === 'parameter-problem')
    return new CheckFailure('ICMP_PARAMETER_PROBLEM', `${address}: parameter problem reported by ${err.from}`, 'ping');
  return new CheckFailure(
    'ICMP_NO_REPLY',
    `no reply from ${address} to ${sent} echo request${sent === 1 ? '' : 's'}`,
    'ping',
  );
}
