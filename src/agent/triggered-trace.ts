import type { AttachedTrace, CheckKind, CheckResult } from '../checks/check.js';
import { trace } from '../checks/traceroute/trace.js';
import type { Clock } from '../clock.js';
import type { TriggeredTracerouteConfig } from '../config/agent-config.js';
import { abortedByDeadline } from '../errors.js';
import { Semaphore } from '../schedule/semaphore.js';
import type { IcmpPort } from '../net/net-deps.js';

/** Triggered traces in flight at once, agent-wide: when an uplink fails every check fails together,
 * and dozens of simultaneous traces would make each router's ICMP rate limit hide the path. */
const CONCURRENT_TRACES = 2;

/**
 * "DNS is fine but the IP does not answer" is undiagnosable without the path, so such a failure
 * traces the IP at once and attaches the path to the run's record and problem event. The rules:
 * only when the name's FIRST address (resolver order, which clients try first) is silent; then
 * the silent addresses in order, at most `maxIps` per run; an IP at most once per `minInterval`;
 * at most CONCURRENT_TRACES traces at once across the agent.
 */
export class TraceTrigger {
  private readonly lastTraced = new Map<string, bigint>();
  private readonly slots = new Semaphore(CONCURRENT_TRACES);

  constructor(
    private readonly icmp: IcmpPort,
    private readonly clock: Clock,
    private config: TriggeredTracerouteConfig,
  ) {}

  reconfigure(config: TriggeredTracerouteConfig): void {
    this.config = config;
  }

  /** Traces the qualifying IPs of one run and sets `traceroute` on their results. */
  async attach(kind: CheckKind, results: CheckResult[], signal: AbortSignal): Promise<void> {
    if (!this.config.enabled) return;
    const isSilent = (r: CheckResult): boolean => r.ip !== undefined && !r.ok && kind.silentIp(r);
    const first = results[0];
    if (!first || !isSilent(first)) return;
    const now = this.clock.monotonicNs();
    const minIntervalNs = BigInt(Math.round(this.config.minIntervalMs * 1e6));
    for (const [ip, at] of this.lastTraced) if (now - at >= minIntervalNs) this.lastTraced.delete(ip);
    // Recently traced IPs do not use up the cap: the next silent ones get their turn.
    const chosen = results
      .filter(isSilent)
      .filter((r) => !this.lastTraced.has(r.ip!))
      .slice(0, this.config.maxIps);
    if (chosen.length === 0) return;
    // The run's deadline has usually passed (the check waited for silence): the trace gets its
    // own budget, and only a cancellation (shutdown, reload) stops it.
    const stop = new AbortController();
    const onAbort = (): void => {
      if (!abortedByDeadline(signal)) stop.abort(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all(
        chosen.map(async (result) => {
          this.lastTraced.set(result.ip!, now);
          await this.slots.acquire();
          try {
            if (stop.signal.aborted) return;
            const path = await trace(this.icmp, this.clock, {
              address: result.ip!,
              family: result.ip!.includes(':') ? 6 : 4,
              maxHops: this.config.maxHops,
              probesPerHop: this.config.probesPerHop,
              probeTimeoutMs: this.config.probeTimeoutMs,
              signal: stop.signal,
            });
            const attached: AttachedTrace = path.failure
              ? { error: path.failure.toCheckError() }
              : {
                  reached: path.reached,
                  hops: path.hops,
                  routeHash: path.routeHash,
                  lastRespondingHop: path.lastRespondingHop,
                };
            result.traceroute = attached;
          } finally {
            this.slots.release();
          }
        }),
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
