import { canonicalIp, isIpv4Literal } from '../address.js';
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

/** What is remembered of an address: its canonical text, family, and whether it is v4-mapped. */
interface KnownAddress {
  text: string;
  family: IcmpFamily;
  v4Mapped: boolean;
}

/**
 * The text to ping an address by: canonicalIp's answer, remembered for the addresses probed (isIP's
 * regular expressions per probe were 2 % of the CPU, and string searches per probe more). A dotted
 * quad is its own canonical text: a character scan, where the lookup in a table of every target
 * missed the CPU's caches (2 % of a probe's cost at 10,000 targets). Bounded: an agent probes a
 * bounded set of targets, but an address per probe must not grow it.
 */
export class CanonicalAddresses {
  private readonly known = new Map<string, KnownAddress | undefined>();

  /** `text`'s canonical form if it is an address of `family` to ping (not a v4-mapped IPv6 one). */
  pingable(text: string, family: IcmpFamily): string | undefined {
    if (family === 4 && isIpv4Literal(text)) return text;
    const address = this.of(text);
    return address && address.family === family && !address.v4Mapped ? address.text : undefined;
  }

  private of(text: string): KnownAddress | undefined {
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
