// @ts-check
// Hop lists: every tool's output becomes [{ ttl, addresses: [...] }] ('*' hops have none), and two
// lists are compared hop by hop.

/**
 * One hop as every tool reports it: the addresses that answered at this TTL (none for '*').
 * @typedef {{ ttl: number, addresses: string[], unreachable?: boolean | string, answered?: number }} Hop
 */

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * traceroute and scamper's text output: "ttl  addr  rtt ms [addr rtt ms]..." or "ttl  * * *".
 * @param {string} out
 * @returns {Hop[]}
 */
export function parseTraceroute(out) {
  const hops = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const rest = m[2] ?? '';
    const addresses = [...new Set(rest.split(/\s+/).filter((t) => IPV4.test(t)))];
    hops.push({ ttl: Number(m[1]), addresses, unreachable: /![HNPX]/.test(rest) });
  }
  return hops;
}

/**
 * mtr -r: "  9.|-- 198.19.1.21  0.0% ..." ("???" when silent); further addresses on "    |  `-- addr" lines.
 * @param {string} out
 * @returns {Hop[]}
 */
export function parseMtr(out) {
  /** @type {Hop[]} */
  const hops = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\.\|--\s+(\S+)/.exec(line);
    if (m) hops.push({ ttl: Number(m[1]), addresses: IPV4.test(m[2] ?? '') ? [m[2] ?? ''] : [] });
    const extra = /^\s+\|\s+`--\s+(\S+)/.exec(line)?.[1];
    if (extra && IPV4.test(extra)) hops.at(-1)?.addresses.push(extra);
  }
  return hops;
}

/**
 * A hop list on one line: addresses joined by '|', '*' for silent hops, '!' after unreachables.
 * @param {readonly Hop[]} hops
 */
export const hopText = (hops) =>
  hops.map((h) => (h.addresses.length ? h.addresses.join('|') : '*') + (h.unreachable ? '!' : '')).join(' ');

/**
 * The TTL of the last hop that answered; 0 when none did.
 * @param {readonly Hop[]} hops
 */
export const lastResponding = (hops) => hops.reduce((last, h) => (h.addresses.length ? h.ttl : last), 0);

/**
 * Compares a hop list with the reference hop by hop up to the last hop either answered at
 * (trailing silent hops are not compared). 'same', or where and how they differ.
 * @param {readonly Hop[]} hops
 * @param {readonly Hop[]} ref
 */
export function compareHops(hops, ref) {
  const upTo = Math.max(lastResponding(hops), lastResponding(ref));
  const diffs = [];
  for (let ttl = 1; ttl <= upTo; ttl++) {
    const a = [...(hops.find((h) => h.ttl === ttl)?.addresses ?? [])].sort();
    const b = [...(ref.find((h) => h.ttl === ttl)?.addresses ?? [])].sort();
    if (a.join() === b.join()) continue;
    const subset = a.length > 0 && a.every((x) => b.includes(x));
    diffs.push(`hop ${ttl}: ${a.join('|') || '*'}${subset ? ` (one of ${b.join('|')})` : ` vs ${b.join('|') || '*'}`}`);
  }
  return diffs.length === 0 ? 'same' : diffs.join('; ');
}
