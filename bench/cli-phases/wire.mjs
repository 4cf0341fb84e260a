// @ts-check
// The https phases of `vantage probe` (cold) and of curl -w, each beside the wire's for the same
// connections (capture.mjs): one connection at a time, a pause between, so the n-th flow on the
// target's port is the n-th run. Shows which tool's boundary is off the wire, and by how much.
import { join } from 'node:path';
import { CURL_TIMED, LOOPBACK } from '../lib/http.mjs';
import { execFileP, installed } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';
import { fmt } from '../lib/table.mjs';
import { inTurnsUnderCapture, wirePhases } from './capture.mjs';

/** @import { WirePhases } from './capture.mjs' */

const RUNS = 5;
/** Long enough that one tool's FIN/close exchange is over before the next tool's SYN. */
const PAUSE_MS = 150;
const PHASES = /** @type {const} */ (['connect', 'tls', 'requestFirstByte', 'tlsToFirstByte', 'toFirstByte']);
const LABEL = {
  connect: 'connect',
  tls: 'tls',
  requestFirstByte: 'request + first byte',
  tlsToFirstByte: 'tls + request + first byte',
  toFirstByte: 'connect start to first byte',
};

/**
 * A tool's phases for one run, keyed as the wire's.
 * @typedef {Record<(typeof PHASES)[number], number>} ToolPhases
 */

/**
 * @param {{ phasesMs: Record<string, number> }} record a `vantage probe https --json` record
 * @returns {ToolPhases}
 */
function fromRecord({ phasesMs: p }) {
  const [connect = NaN, tls = NaN, request = NaN, firstByte = NaN] = [p.connect, p.tls, p.request, p.firstByte];
  const tlsToFirstByte = tls + request + firstByte;
  return { connect, tls, requestFirstByte: request + firstByte, tlsToFirstByte, toFirstByte: connect + tlsToFirstByte };
}

/**
 * @param {string} url
 * @param {string} ca
 * @returns {Promise<ToolPhases>}
 */
async function curl(url, ca) {
  const w = '%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer}';
  const { stdout } = await execFileP('curl', [...CURL_TIMED, '-s', '--http1.1', '--cacert', ca, '-w', w, url]);
  const [dns = NaN, connect = NaN, app = NaN, start = NaN] = stdout
    .trim()
    .split(' ')
    .map((x) => Number(x) * 1000);
  return {
    connect: connect - dns,
    tls: app - connect,
    requestFirstByte: start - app,
    tlsToFirstByte: start - connect,
    toFirstByte: start - dns,
  };
}

/**
 * A warm in-process exchange's phases (cumulative from the connection start), keyed as the wire's.
 * @param {{ phasesMs: Record<string, number> }} exchange what `net.https.exchange` resolved with
 * @returns {ToolPhases}
 */
export function fromExchange({ phasesMs: p }) {
  const [connect = NaN, tls = NaN, firstByte = NaN] = [p.connect, p.tls, p.firstByte];
  return {
    connect,
    tls: tls - connect,
    requestFirstByte: firstByte - tls,
    tlsToFirstByte: firstByte - connect,
    toFirstByte: firstByte,
  };
}

/**
 * Runs each tool RUNS times, in turn, under a capture and returns the table section, or undefined
 * (with the reason) when tcpdump or curl is missing. Tools: a fresh `vantage probe` (cold), curl,
 * and the warm in-process adapter when `warm` is given (the agent after its first run).
 * @param {{ port: number, ca: string, dir: string,
 *   probe: (args: string[]) => Promise<{ phasesMs: Record<string, number> }>,
 *   warm?: (url: string) => Promise<ToolPhases> }} t
 */
export async function httpsAgainstWire(t) {
  for (const tool of ['tcpdump', 'curl']) if (!(await installed(tool))) return { skipped: `${tool} is not installed` };
  const url = `https://${LOOPBACK}:${t.port}/`;
  const file = join(t.dir, 'https.pcap');
  const warm = t.warm;
  /** @type {Array<{ name: string, run: () => Promise<ToolPhases> }>} */
  const tools = [
    {
      name: 'vantage',
      run: async () => fromRecord(await t.probe(['https', url, '--ca-file', t.ca, '--http-version', '1.1'])),
    },
    { name: 'curl -w', run: () => curl(url, t.ca) },
    ...(warm ? [{ name: 'vantage warm', run: () => warm(url) }] : []),
  ];
  const runs = await inTurnsUnderCapture({ port: t.port, file, runs: RUNS, pauseMs: PAUSE_MS, tools });
  const flows = wirePhases(file, t.port);
  if (flows.length !== tools.length * RUNS)
    throw new Error(`capture: ${flows.length} connections, expected ${tools.length * RUNS}`);
  const paired_ = tools.map((tool, k) => ({
    name: tool.name,
    ...paired(
      runs[k] ?? [],
      flows.filter((_, i) => i % tools.length === k),
    ),
  }));
  return {
    section: section(paired_),
    raw: Object.fromEntries(paired_.map((x) => [x.name, { pairs: x.pairs, unphased: x.unphased }])),
  };
}

/**
 * Each run beside its connection on the wire; runs whose connection the capture could not phase
 * (no response record found) are left out and counted.
 * @param {ToolPhases[]} tool
 * @param {Array<WirePhases | { clientPort: number }>} wire
 * @returns {{ pairs: Array<{ tool: ToolPhases, wire: WirePhases }>, unphased: number[] }}
 */
function paired(tool, wire) {
  return {
    pairs: wire.flatMap((w, i) => {
      const t = tool[i];
      return 'connect' in w && t ? [{ tool: t, wire: w }] : [];
    }),
    unphased: wire.filter((w) => !('connect' in w)).map((w) => w.clientPort),
  };
}

/**
 * @param {Array<ReturnType<typeof paired> & { name: string }>} tools each tool's runs beside the wire
 */
function section(tools) {
  const p50 = (/** @type {number[]} */ v) => summarize(v).p50;
  /** @param {ReturnType<typeof paired>} x @param {(typeof PHASES)[number]} k */
  const cells = (x, k) => [
    fmt(p50(x.pairs.map((p) => p.tool[k])), 3),
    fmt(p50(x.pairs.map((p) => p.wire[k])), 3),
    // Per connection, the tool minus the wire: the p50 of the differences, not the difference of p50s.
    fmt(p50(x.pairs.map((p) => p.tool[k] - p.wire[k])), 3),
  ];
  const wireOf = (/** @type {ReturnType<typeof paired>} */ x) => x.pairs.map((p) => p.wire);
  const rows = PHASES.map((k) => [LABEL[k], ...tools.flatMap((x) => cells(x, k))]);
  const together = (/** @type {WirePhases[]} */ w) => w.filter((x) => x.finishedWithRequest).length;
  return {
    heading: 'https phases against the wire: each tool beside a capture of its own connections',
    headers: ['https phase', ...tools.flatMap((x) => [`${x.name} p50 ms`, 'wire p50', `${x.name}-wire`])],
    rows,
    notes: [
      `wire: tcpdump on lo (kernel stamps, ns) of ${RUNS} connections per tool to https://${LOOPBACK}:PORT/, one ` +
        'at a time, the tools in turn; vantage = a fresh `vantage probe https` (cold), vantage warm = the ' +
        "agent's https adapter reused in one process; -wire columns are the p50 of per-connection differences",
      "wire phases: connect = SYN -> SYN-ACK; tls = SYN-ACK -> the client's Finished out; request + first byte = " +
        "the Finished out -> the server's response record in (its NewSessionTicket records told apart by length); " +
        'connect start = the SYN (vantage: just before connect(), curl: time_namelookup)',
      `the client's Finished left in the same segment as the request in ` +
        tools.map((x) => `${together(wireOf(x))} of ${x.pairs.length} ${x.name}`).join(', ') +
        ` connections; TLS 1.3 in ${tools.flatMap(wireOf).filter((x) => x.tls13).length}; the client's Finished ` +
        'out -> its request out, p50: ' +
        tools.map((x) => `${x.name} ${fmt(p50(wireOf(x).map((w) => w.finishedToRequest)), 3)} ms`).join(', '),
      ...tools.flatMap((x) =>
        x.unphased.length === 0
          ? []
          : [`${x.name} connections without a response record found, left out: ports ${x.unphased}`],
      ),
    ],
  };
}
