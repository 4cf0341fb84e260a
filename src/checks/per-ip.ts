import * as z from 'zod';
import { elapsedMs } from '../clock.js';
import { CheckFailure } from '../errors.js';
import type { NetDeps, ResolvedAddress } from '../net/net-deps.js';
import type { CheckResult, CheckSpec, CoreResult, RunContext } from './check.js';

/** Settings shared by every kind that resolves a host and probes each address. */
export const addressSelectionSettings = {
  /** Which address family to resolve and probe: `any` (default), `ipv4` or `ipv6`. */
  ip_family: z.enum(['any', 'ipv4', 'ipv6']).default('any'),
  /** Which resolved addresses to probe: `all` (default) or the first N in resolver order. */
  ips: z.union([z.literal('all'), z.number().int().min(1)]).default('all'),
};

export type AddressSelection = z.output<z.ZodObject<typeof addressSelectionSettings>>;

/** What a per-IP probe gets: the address and the moment the run started. */
export interface IpProbe {
  address: ResolvedAddress;
  runStartNs: bigint;
  resolveMs: number;
}

/**
 * Resolves the target once per run (or takes the addresses the target's dns check just found),
 * then probes the selected addresses concurrently, one result per address. A failed resolution
 * yields a single result without `ip`: there is nothing to probe.
 */
export async function runPerIp<F extends object>(
  spec: CheckSpec<AddressSelection>,
  net: NetDeps,
  ctx: RunContext,
  /** Probes one address; `base` is made for this call alone, and the probe may fill it in place. */
  probe: (target: IpProbe, base: CoreResult) => Promise<CheckResult<F>>,
): Promise<Array<CheckResult<F> | CoreResult>> {
  await net.ready?.();
  const runStartNs = ctx.clock.monotonicNs();
  const startedAt = new Date(ctx.clock.wallMs()).toISOString();
  let addresses: ResolvedAddress[];
  const fromDnsCheck = net.addressBook?.lookup(spec.target.name, spec.settings.ip_family);
  try {
    addresses =
      fromDnsCheck?.addresses ?? (await net.resolver.resolve(spec.target.host, spec.settings.ip_family, ctx.signal));
  } catch (err) {
    const durationMs = elapsedMs(runStartNs, ctx.clock.monotonicNs());
    return [failedBeforeProbe(baseResult(spec, startedAt), durationMs, asFailure(err, 'resolve'))];
  }
  const resolveMs = elapsedMs(runStartNs, ctx.clock.monotonicNs());
  if (addresses.length === 0) {
    const error = new CheckFailure(
      'DNS_NO_ADDRESS',
      `${spec.target.host} resolved to no ${spec.settings.ip_family} address`,
      'resolve',
    );
    return [failedBeforeProbe(baseResult(spec, startedAt), resolveMs, error)];
  }
  const selected = spec.settings.ips === 'all' ? addresses : addresses.slice(0, spec.settings.ips);
  const probeOne = (address: ResolvedAddress): Promise<CheckResult<F>> => {
    const ipBase = baseResult(spec, startedAt, address.address);
    if (fromDnsCheck) ipBase.addressSource = fromDnsCheck.source;
    return probe({ address, runStartNs, resolveMs }, ipBase);
  };
  // One address, the usual case: no array of promises and no Promise.all to wait on (every run).
  const [only] = selected;
  if (only && selected.length === 1) return [await probeOne(only)];
  return Promise.all(selected.map(probeOne));
}

function failedBeforeProbe(base: CoreResult, resolveMs: number, failure: CheckFailure): CoreResult {
  return Object.assign(base, {
    durationMs: resolveMs,
    phasesMs: { resolve: resolveMs },
    error: failure.toCheckError(),
  });
}

/** A result with nothing measured yet; kinds fill in `ok`, phases and their own fields. */
export function baseResult(spec: CheckSpec, started: number | string, ip?: string): CoreResult {
  const startedAt = typeof started === 'string' ? started : new Date(started).toISOString();
  const { name: check, kind } = spec;
  const target = spec.target.name;
  // Two literals rather than a spread of the optional `ip`: an object spread per result made it in
  // the runtime's slow path, property by property, for every run (a sampling allocation profile).
  return ip === undefined
    ? { check, kind, target, ok: false, error: null, startedAt, durationMs: 0, phasesMs: {} }
    : { check, kind, target, ip, ok: false, error: null, startedAt, durationMs: 0, phasesMs: {} };
}

/** Turns anything an adapter threw into a `CheckFailure`; unknown throws are bugs (`INTERNAL`). */
export function asFailure(err: unknown, phase: string): CheckFailure {
  if (err instanceof CheckFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CheckFailure('INTERNAL', `unexpected error in ${phase}: ${message}`, phase, { cause: err });
}
