// @ts-check
// The DNS-over-UDP request phase of `vantage probe dns` (cold), of the warm in-process client and of
// dig, each beside a capture of its own exchanges (capture.mjs): dig prints whole milliseconds, too
// coarse for issue 17's 0.5 ms aim, so the wire is the reference. A query and its answer are paired
// by the client's port and the DNS id.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOOPBACK } from '../lib/http.mjs';
import { execFileP, installed } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';
import { fmt } from '../lib/table.mjs';
import { inTurnsUnderCapture, readDatagrams } from './capture.mjs';

const RUNS = 10;
const PAUSE_MS = 50;

/**
 * Query out -> answer in, ms, for every exchange in the capture, in the order the queries left.
 * @param {string} file
 * @param {number} serverPort
 */
function wireExchanges(file, serverPort) {
  const datagrams = readDatagrams(readFileSync(file), serverPort).filter((d) => d.payload.length >= 12);
  const key = (/** @type {{ clientPort: number, payload: Buffer }} */ d) =>
    `${d.clientPort}/${d.payload.readUInt16BE(0)}`;
  return datagrams
    .filter((d) => d.fromClient)
    .flatMap((query) => {
      const answer = datagrams.find((d) => !d.fromClient && d.t >= query.t && key(d) === key(query));
      return answer ? [answer.t - query.t] : [];
    });
}

/**
 * Runs each tool RUNS times, in turn, against the DNS server on `port` under a capture of its UDP
 * port, and returns the table section (or why there is none).
 * @param {{ port: number, name: string, dir: string,
 *   probe: (args: string[]) => Promise<{ phasesMs: Record<string, number> }>,
 *   warm: () => Promise<number> }} t `warm` resolves with the warm client's request phase, ms
 */
export async function dnsAgainstWire(t) {
  for (const tool of ['tcpdump', 'dig']) if (!(await installed(tool))) return { skipped: `${tool} is not installed` };
  const file = join(t.dir, 'dns.pcap');
  /** @type {Array<{ name: string, run: () => Promise<number> }>} */
  const tools = [
    {
      name: 'vantage',
      run: async () => (await t.probe(['dns', t.name, '--resolver', `${LOOPBACK}:${t.port}`])).phasesMs.request ?? NaN,
    },
    {
      name: 'dig',
      run: async () => {
        const args = ['+tries=1', '+time=2', '-p', String(t.port), `@${LOOPBACK}`, t.name, 'A'];
        const { stdout } = await execFileP('dig', args);
        return Number(/Query time: (\d+) msec/.exec(stdout)?.[1]);
      },
    },
    { name: 'vantage warm', run: t.warm },
  ];
  const runs = await inTurnsUnderCapture({ port: t.port, file, protocol: 'udp', runs: RUNS, pauseMs: PAUSE_MS, tools });
  const wire = wireExchanges(file, t.port);
  if (wire.length !== tools.length * RUNS)
    throw new Error(`capture: ${wire.length} DNS exchanges, expected ${tools.length * RUNS}`);
  const p50 = (/** @type {number[]} */ v) => summarize(v).p50;
  const columns = tools.map((tool, k) => {
    const own = wire.filter((_, i) => i % tools.length === k);
    const ms = runs[k] ?? [];
    return { name: tool.name, ms, wire: own, diff: ms.map((x, i) => x - (own[i] ?? NaN)) };
  });
  return {
    section: {
      heading: 'DNS over UDP against the wire: each tool beside a capture of its own exchanges',
      headers: ['dns udp request', ...columns.flatMap((c) => [`${c.name} p50 ms`, 'wire p50', `${c.name}-wire`])],
      rows: [
        [
          `${t.name} (the server answers after its delay)`,
          ...columns.flatMap((c) => [fmt(p50(c.ms), 3), fmt(p50(c.wire), 3), fmt(p50(c.diff), 3)]),
        ],
      ],
      notes: [
        `wire: tcpdump on lo (kernel stamps, ns) of ${RUNS} exchanges per tool with the server on ${LOOPBACK}, the ` +
          'tools in turn: the query datagram out -> the answer in, paired by client port and DNS id; vantage = a ' +
          'fresh `vantage probe dns` (cold, its phasesMs.request), vantage warm = the DNS client reused in one ' +
          'process; dig prints whole milliseconds; -wire columns are the p50 of per-exchange differences',
        'per-exchange differences, min-max: ' +
          columns
            .map((c) => `${c.name} ${fmt(summarize(c.diff).min, 3)} to ${fmt(summarize(c.diff).max, 3)} ms`)
            .join(', '),
      ],
    },
    raw: Object.fromEntries(columns.map((c) => [c.name, { ms: c.ms, wire: c.wire }])),
  };
}
