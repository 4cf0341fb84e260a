import { canonicalIp } from '../address.js';
import { echoRequest, readdressEcho } from './packet.js';
import type { IcmpFamily } from './packet.js';

/** Addresses whose canonical form is remembered (see CanonicalAddresses). */
const CANONICAL_CACHE = 100_000;

/**
 * One echo request per family, payload size and checksum mode, re-addressed for each probe as it is
 * sent (RFC 1624 checksum update) instead of built and summed per probe.
 */
export class EchoTemplates {
  private readonly templates = new Map<number, Buffer>();

  /** The probe's packet, given its identifier and sequence (`key` = identifier << 16 | sequence). */
  packet(family: IcmpFamily, payloadSize: number | undefined, constantChecksum: boolean, key: number): Buffer {
    const size = Math.max(0, payloadSize ?? 56);
    const id = (size * 2 + (family === 6 ? 1 : 0)) * 2 + (constantChecksum ? 1 : 0);
    let template = this.templates.get(id);
    if (!template)
      this.templates.set(id, (template = echoRequest(family, 0, 0, Buffer.alloc(size, 0x56), constantChecksum)));
    return readdressEcho(template, family, key >>> 16, key & 0xffff, constantChecksum);
  }
}

/** An address to ping: its canonical text and family (a v4-mapped IPv6 address is not pingable as such). */
export interface ProbeAddress {
  text: string;
  family: IcmpFamily;
  v4Mapped: boolean;
}

/**
 * canonicalIp's answers for the addresses probed, with what the engine checks of them per probe
 * (isIP's regular expressions per probe were 2 % of the CPU, and string searches per probe
 * more). Bounded: an agent probes a bounded set of targets, but an address per probe must not grow it.
 */
export class CanonicalAddresses {
  private readonly known = new Map<string, ProbeAddress | undefined>();

  of(text: string): ProbeAddress | undefined {
    let address = this.known.get(text);
    if (address === undefined && !this.known.has(text)) {
      if (this.known.size >= CANONICAL_CACHE) this.known.clear();
      const ip = canonicalIp(text);
      address =
        ip === undefined
          ? undefined
          : { text: ip, family: ip.includes(':') ? 6 : 4, v4Mapped: ip.startsWith('::ffff:') };
      this.known.set(text, address);
    }
    return address;
  }
}
