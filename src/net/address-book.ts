import { isIP } from 'node:net';
import type { IpFamily, ResolvedAddress } from './address.js';

interface Entry {
  addresses: ResolvedAddress[];
  validUntilMs: number;
  source: string;
}

/**
 * The addresses a target's dns check found, shared with the target's other checks: ping, traceroute
 * and the rest then probe exactly the IPs the DNS check saw (one resolution, every IP probed)
 * instead of asking the system resolver again and perhaps getting another rotation. Entries are per
 * family and live one interval of the dns check that wrote them; without fresh ones (for `any`:
 * both families), checks resolve as usual.
 */
export class AddressBook {
  /** Per target, its entry of each family: a lookup builds no key (every run of every check asks). */
  private readonly entries = new Map<string, { 4?: Entry; 6?: Entry }>();

  constructor(private readonly nowMs: () => number) {}

  publish(target: string, family: 4 | 6, addresses: readonly string[], validForMs: number, source: string): void {
    const resolved = addresses
      .filter((a) => isIP(a) === family)
      .map((address): ResolvedAddress => ({ address, family }));
    let byFamily = this.entries.get(target);
    if (!byFamily) this.entries.set(target, (byFamily = {}));
    byFamily[family] = { addresses: resolved, validUntilMs: this.nowMs() + validForMs, source };
  }

  /** Fresh addresses of `target` in `family`, with who found them; undefined when not known. */
  lookup(target: string, family: IpFamily): { addresses: ResolvedAddress[]; source: string } | undefined {
    const byFamily = this.entries.get(target);
    if (!byFamily) return undefined;
    const v4 = family === 'ipv6' ? undefined : this.fresh(byFamily[4]);
    const v6 = family === 'ipv4' ? undefined : this.fresh(byFamily[6]);
    // For `any`, both families must be fresh.
    if (family === 'any' ? !v4 || !v6 : !v4 && !v6) return undefined;
    const entries = [v4, v6].filter((e): e is Entry => e !== undefined);
    const addresses = entries.flatMap((e) => e.addresses);
    return addresses.length > 0
      ? { addresses, source: [...new Set(entries.map((e) => e.source))].join(', ') }
      : undefined;
  }

  private fresh(entry: Entry | undefined): Entry | undefined {
    return entry && entry.validUntilMs >= this.nowMs() ? entry : undefined;
  }
}
