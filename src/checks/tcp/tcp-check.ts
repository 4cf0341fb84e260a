import { elapsedMs } from '../../clock.js';
import type { NetDeps } from '../../net/net-deps.js';
import type { Check, CheckResult, CheckSpec, CoreResult, RunContext } from '../check.js';
import { asFailure, runPerIp } from '../per-ip.js';
import type { IpProbe } from '../per-ip.js';
import type { TcpFields, TcpSettings } from './tcp-settings.js';

/**
 * TCP connect check: resolve the host, then complete one three-way handshake per address. Only the
 * handshake is timed and nothing is sent, so a server that accepts and then stays silent is "up"
 * (which is what a load balancer health check would say too); the socket is closed at once.
 */
export class TcpCheck implements Check<TcpFields> {
  constructor(
    readonly spec: CheckSpec<TcpSettings>,
    private readonly net: NetDeps,
    private readonly port: number,
  ) {}

  run(ctx: RunContext): Promise<CheckResult<TcpFields>[]> {
    return runPerIp<TcpFields>(this.spec, this.net, ctx, (target, base) => this.connectOnce(ctx, target, base));
  }

  private async connectOnce(ctx: RunContext, target: IpProbe, base: CoreResult): Promise<CheckResult<TcpFields>> {
    const port = this.port;
    try {
      const timing = await this.net.tcp.connect({
        ip: target.address.address,
        port,
        signal: ctx.signal,
        ...(this.spec.settings.source_address ? { sourceAddress: this.spec.settings.source_address } : {}),
      });
      const connectMs = elapsedMs(timing.startNs, timing.connectedNs);
      return {
        ...base,
        ok: true,
        port,
        connectMs,
        durationMs: elapsedMs(target.runStartNs, timing.connectedNs),
        phasesMs: { resolve: target.resolveMs, connect: connectMs },
      };
    } catch (err) {
      const failure = asFailure(err, 'connect');
      const durationMs = elapsedMs(target.runStartNs, ctx.clock.monotonicNs());
      return {
        ...base,
        port,
        error: failure.toCheckError(),
        durationMs,
        phasesMs: { resolve: target.resolveMs, connect: durationMs - target.resolveMs },
      };
    }
  }
}
