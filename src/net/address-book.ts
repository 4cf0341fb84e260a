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
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly nowMs: () => number) {}

  publish(target: string, family: 4 | 6, addresses: readonly string[], validForMs: number, source: string): void {
    const resolved = addresses
      .filter((a) => isIP(a) === family)
      .map((address): ResolvedAddress => ({ address, family }));
    this.entries.set(`${family} ${target}`, { addresses: resolved, validUntilMs: this.nowMs() + validForMs, source });
  }

  /** Fresh addresses of `target` in `family`, with who found them; undefined when not known. */
  lookup(target: string, family: IpFamily): { addresses: ResolvedAddress[]; source: string } | undefined {
    const families: Array<4 | 6> = family === 'any' ? [4, 6] : [family === 'ipv4' ? 4 : 6];
    const found = families.map((f) => this.entries.get(`${f} ${target}`));
    if (found.some((e) => !e || e.validUntilMs < this.nowMs())) return undefined;
    const entries = found as Entry[];
    const addresses = entries.flatMap((e) => e.addresses);
    return addresses.length > 0
      ? { addresses, source: [...new Set(entries.map((e) => e.source))].join(', ') }
      : undefined;
  }
}
