// @ts-check
// The https phases of `vantage probe` (cold) and of curl -w, each beside the wire's for the same
// connections (capture.mjs): one connection at a time, a pause between, so the n-th flow on the
// target's port is the n-th run. Shows which tool's boundary is off the wire, and by how much.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CURL_TIMED, LOOPBACK } from '../lib/http.mjs';
import { execFileP, installed } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';
import { fmt } from '../lib/table.mjs';
import { startCapture, wirePhases } from './capture.mjs';

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
 * Runs both tools RUNS times under a capture and returns the table section, or undefined (with the
 * reason) when tcpdump or curl is missing.
 * @param {{ port: number, ca: string, dir: string,
 *   probe: (args: string[]) => Promise<{ phasesMs: Record<string, number> }> }} t
 */
export async function httpsAgainstWire(t) {
  for (const tool of ['tcpdump', 'curl']) if (!(await installed(tool))) return { skipped: `${tool} is not installed` };
  const url = `https://${LOOPBACK}:${t.port}/`;
  const file = join(t.dir, 'https.pcap');
  /** @type {ToolPhases[]} */ const ours = [];
  /** @type {ToolPhases[]} */ const theirs = [];
  const capture = await startCapture(t.port, file);
  try {
    for (let i = 0; i < RUNS; i++) {
      ours.push(fromRecord(await t.probe(['https', url, '--ca-file', t.ca, '--http-version', '1.1'])));
      await sleep(PAUSE_MS);
      theirs.push(await curl(url, t.ca));
      await sleep(PAUSE_MS);
    }
  } finally {
    await capture.stop();
  }
  const flows = wirePhases(file, t.port);
  if (flows.length !== 2 * RUNS) throw new Error(`capture: ${flows.length} connections, expected ${2 * RUNS}`);
  const a = paired(
    ours,
    flows.filter((_, i) => i % 2 === 0),
  );
  const b = paired(
    theirs,
    flows.filter((_, i) => i % 2 === 1),
  );
  return { section: section(a, b), raw: { ours: a, curl: b } };
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
 * @param {ReturnType<typeof paired>} a vantage's runs
 * @param {ReturnType<typeof paired>} b curl's runs
 */
function section(a, b) {
  const p50 = (/** @type {number[]} */ v) => summarize(v).p50;
  /** @param {ReturnType<typeof paired>} x @param {(typeof PHASES)[number]} k */
  const cells = (x, k) => [
    fmt(p50(x.pairs.map((p) => p.tool[k])), 3),
    fmt(p50(x.pairs.map((p) => p.wire[k])), 3),
    // Per connection, the tool minus the wire: the p50 of the differences, not the difference of p50s.
    fmt(p50(x.pairs.map((p) => p.tool[k] - p.wire[k])), 3),
  ];
  const [wireOurs, wireTheirs] = [a.pairs.map((p) => p.wire), b.pairs.map((p) => p.wire)];
  const rows = PHASES.map((k) => [LABEL[k], ...cells(a, k), ...cells(b, k)]);
  const together = (/** @type {WirePhases[]} */ w) => w.filter((x) => x.finishedWithRequest).length;
  return {
    heading: 'https phases against the wire: each tool beside a capture of its own connections',
    headers: [
      'https phase (cold)',
      'vantage p50 ms',
      'wire p50',
      'vantage-wire',
      'curl -w p50',
      'wire p50',
      'curl-wire',
    ],
    rows,
    notes: [
      `wire: tcpdump on lo (kernel stamps, ns) of ${RUNS} \`vantage probe https\` and ${RUNS} curl connections to ` +
        `https://${LOOPBACK}:PORT/, one at a time; -wire columns are the p50 of per-connection differences`,
      "wire phases: connect = SYN -> SYN-ACK; tls = SYN-ACK -> the client's Finished out; request + first byte = " +
        "the Finished out -> the server's response record in (its NewSessionTicket records told apart by length); " +
        'connect start = the SYN (vantage: just before connect(), curl: time_namelookup)',
      `the client's Finished left in the same segment as the request in ${together(wireOurs)} of ` +
        `${wireOurs.length} vantage and ${together(wireTheirs)} of ${wireTheirs.length} curl connections; ` +
        `TLS 1.3 in ${[...wireOurs, ...wireTheirs].filter((x) => x.tls13).length}; the client's Finished out -> its ` +
        `request out, p50: vantage ${fmt(p50(wireOurs.map((x) => x.finishedToRequest)), 3)} ms, ` +
        `curl ${fmt(p50(wireTheirs.map((x) => x.finishedToRequest)), 3)} ms`,
      ...[a, b].flatMap((x, i) =>
        x.unphased.length === 0
          ? []
          : [`${['vantage', 'curl'][i]} connections without a response record found, left out: ports ${x.unphased}`],
      ),
    ],
  };
}
