// @ts-check
// DNS query timing against the lab's authoritative server, ours next to dig's from the same
// namespace in the same run: a fast name (path only) and the slow name (known server delay), over
// UDP and TCP, plus DoT and DoH (ours only: dig has no DoT/DoH). The aim: the delayed name
// timed within 1 ms of its delay. Needs root (the lab); every lab is removed in finally and on signals.
import { helperJson } from './lib/helpers.mjs';
import { inDefaultLab, must } from './lib/lab.mjs';
import { missingTool } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { median, rounded, summarize } from './lib/stats.mjs';
import { fmt } from './lib/table.mjs';

/** @import { DnsProbeOutput } from './_dns-probe.mjs' */
/** @import { Cell } from './lib/table.mjs' */

const QUERIES = 30;

/**
 * Every "Query time" dig printed (whole ms).
 * @param {string} out
 */
function digTimes(out) {
  return [...out.matchAll(/Query time: (\d+) msec/g)].map((m) => Number(m[1]));
}

export async function run() {
  return inDefaultLab('dns', [], async (lab) => {
    const digMissing = await missingTool('dig');
    const t = lab.truth;
    /** @type {string} */
    const agent = t.namespaces.agent;
    /** @type {string} */
    const auth = t.dns.auth.v4;
    /**
     * QUERIES queries with Vantage's client in the agent namespace.
     * @param {string} transport
     * @param {number} port
     * @param {string} name
     * @param {string[]} extra server name and CA file, for DoT and DoH
     */
    const ours = async (transport, port, name, extra) => {
      const args = [transport, auth, String(port), name, String(QUERIES), ...extra];
      return /** @type {DnsProbeOutput} */ (
        await helperJson('_dns-probe.mjs', args, { ns: agent, timeoutMs: 120_000 })
      );
    };
    /**
     * QUERIES digs (UDP, or TCP) from the agent namespace; undefined without dig.
     * @param {boolean} tcp
     * @param {string} name
     */
    const dig = async (tcp, name) => {
      if (digMissing) return undefined;
      const args = ['dig', '+tries=1', '+time=2', ...(tcp ? ['+tcp'] : []), `@${auth}`, name];
      const times = [];
      for (let i = 0; i < QUERIES; i++) times.push(...digTimes(await must(lab, agent, args)));
      return times;
    };
    /** @type {Cell[][]} */
    const rows = [];
    /** @type {Record<string, { ours: DnsProbeOutput, dig: number[] | undefined }>} */
    const raw = {};
    const fast = `web.${t.dns.zone}`;
    /** @type {string} */
    const slow = t.dns.slowName;
    /** @type {[string, number, string[]][]} */
    const transports = [
      ['udp', 53, []],
      ['tcp', 53, []],
      ['tls', t.dns.dotPort, [t.dns.tlsName, t.https.caFile]],
      ['https', 443, [t.dns.tlsName, t.https.caFile]],
    ];
    for (const [transport, port, extra] of transports) {
      for (const name of [fast, slow]) {
        const o = await ours(transport, port, name, extra);
        const s = summarize(o.times);
        const digged = transport === 'udp' || transport === 'tcp' ? await dig(transport === 'tcp', name) : undefined;
        const d = digged ? median(digged) : undefined;
        /** @type {number} */
        const delay = name === slow ? t.dns.slowDelayMs : 0;
        raw[`${transport} ${name}`] = { ours: o, dig: digged };
        rows.push([
          transport,
          name === slow ? `slow (${delay} ms)` : 'fast',
          String(o.times.length),
          fmt(s.p50, 3),
          fmt(s.p99, 3),
          fmt(s.p50 - delay, 3),
          d !== undefined ? fmt(d, 0) : '-',
          d !== undefined ? fmt(d - delay, 0) : '-',
          String(o.failures),
        ]);
      }
    }
    return {
      title: "dns: query time against the lab's authoritative server (ours vs dig, same namespace, same run)",
      sections: [
        {
          headers: [
            'transport',
            'name',
            'n',
            'ours p50 ms',
            'ours p99 ms',
            'ours p50 - delay',
            'dig p50 ms',
            'dig p50 - delay',
            'failures',
          ],
          rows,
          notes: [
            `${QUERIES} queries each, sequential; ours = the record's request phase (monotonic stamps around send ` +
              'and receive; tcp/tls/https exclude connect and TLS), dig = its Query time (whole ms)',
            "the slow name is delayed by the lab server's setTimeout (about +1 ms late); the path adds ~0.1-0.2 ms",
          ],
        },
      ],
      raw: rounded(raw),
    };
  });
}

/**
 * bench/dns.mjs's line in the suite's summary (bench/run.mjs): the slow name over UDP, ours and dig's.
 * @param {NonNullable<Extract<Awaited<ReturnType<typeof run>>, { raw: unknown }>['raw']>} dn
 * @returns {Cell[][]}
 */
export function headline(dn) {
  const slow = Object.entries(dn).find(([k]) => k.startsWith('udp slow'))?.[1];
  if (!slow) return [];
  return [
    [
      'dns: 200 ms name over UDP, median ms (ours; dig)',
      fmt(median(slow.ours.times), 2),
      slow.dig ? fmt(median(slow.dig), 0) : '-',
      'dig (whole ms)',
    ],
  ];
}

await runStandalone(import.meta.url, run);
