// @ts-check
// HTTPS phase accuracy against the lab web server's injected delays, side by side in the same run:
// Vantage's client, curl -w, got's own timings and blackbox_exporter's http module, all from the
// agent namespace. Shows where each tool puts a delay before the first byte, inside the header
// block and inside the body. Needs root (the lab); every lab is removed in finally and on signals.
import { BLACKBOX, BLACKBOX_MISSING, BLACKBOX_NS_PORT, startBlackbox } from './lib/blackbox.mjs';
import { helperJson } from './lib/helpers.mjs';
import { delay } from './lib/http.mjs';
import { inDefaultLab, must } from './lib/lab.mjs';
import { installed, makeTempDir, removeTempDir, stopChild } from './lib/proc.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { median, rounded } from './lib/stats.mjs';
import { fmt } from './lib/table.mjs';

/** @import { HttpsPhases } from './_https-probe.mjs' */
/** @import { Lab } from './lib/lab.mjs' */
/** @import { Cell } from './lib/table.mjs' */

const N = 10;
const DELAY = 150;
const CASES = [
  { path: '/', what: 'no delay', phase: null },
  { path: `/ttfb/${DELAY}`, what: `${DELAY} ms before the first byte`, phase: 'firstByte' },
  { path: `/headers/${DELAY}`, what: `${DELAY} ms inside the header block`, phase: 'headers' },
  { path: `/body/${DELAY}`, what: `${DELAY} ms inside the body`, phase: 'transfer' },
];
/** @type {(keyof HttpsPhases)[]} */
const PHASES = ['connect', 'tls', 'request', 'firstByte', 'headers', 'transfer'];

/**
 * N requests with `curl -w` from the agent namespace, its timers turned into phases.
 * @param {Lab} lab
 * @param {string} url
 * @returns {Promise<HttpsPhases[]>}
 */
async function curl(lab, url) {
  const t = lab.truth;
  const out = [];
  for (let i = 0; i < N; i++) {
    const w = await must(lab, t.namespaces.agent, [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '--http1.1',
      '--cacert',
      t.https.caFile,
      '-w',
      '%{time_connect} %{time_appconnect} %{time_pretransfer} %{time_starttransfer} %{time_total}',
      url,
    ]);
    const [connect = NaN, app = NaN, pre = NaN, start = NaN, total = NaN] = w
      .trim()
      .split(' ')
      .map((v) => Number(v) * 1000);
    out.push({
      connect,
      tls: app - connect,
      request: pre - app,
      firstByte: start - pre,
      headers: null,
      transfer: total - start,
    });
  }
  return out;
}

/**
 * N /probe requests to blackbox_exporter's http module (in the agent namespace), through curl there.
 * @param {Lab} lab
 * @param {string} url
 * @returns {Promise<HttpsPhases[]>}
 */
async function blackboxRuns(lab, url) {
  const out = [];
  for (let i = 0; i < N; i++) {
    const body = await must(lab, lab.truth.namespaces.agent, [
      'curl',
      '-s',
      `http://127.0.0.1:${BLACKBOX_NS_PORT}/probe?module=http_lab&target=${encodeURIComponent(url)}`,
    ]);
    /** @param {string} name */
    const phase = (name) =>
      Number(new RegExp(`probe_http_duration_seconds\\{phase="${name}"\\} ([\\d.e-]+)`).exec(body)?.[1]) * 1000;
    out.push({
      connect: phase('connect'),
      tls: phase('tls'),
      request: null,
      firstByte: phase('processing'),
      headers: null,
      transfer: phase('transfer'),
    });
  }
  return out;
}

/** @param {string} caFile */
const blackboxConfig = (caFile) =>
  `modules:\n  http_lab:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n` +
  `      tls_config:\n        ca_file: ${caFile}\n`;

export async function run() {
  return inDefaultLab('https', [], async (lab) => {
    const blackbox = await installed(BLACKBOX);
    const t = lab.truth;
    /** @type {string} */
    const agent = t.namespaces.agent;
    const base = `https://${t.https.name}`;
    /** @type {Cell[][]} */
    const rows = [];
    /** @type {Record<string, Record<string, HttpsPhases[]>>} */
    const raw = {};
    /** @type {{ injected: string, tool: string, landed: string, expected: string | null }[]} */
    const verdicts = [];
    /**
     * N requests with Vantage's client or got (bench/_https-probe.mjs) in the agent namespace.
     * @param {'vantage' | 'got'} tool
     * @param {string} url
     * @param {string} version
     */
    const probe = async (tool, url, version) => {
      const args = [tool, url, t.https.v4, t.https.caFile, String(N), version];
      return /** @type {HttpsPhases[]} */ (
        await helperJson('_https-probe.mjs', args, { ns: agent, timeoutMs: 120_000 })
      );
    };
    const bbDir = blackbox ? makeTempDir('vantage-bench-bb-') : undefined;
    const bb = bbDir ? await startBlackbox(bbDir, blackboxConfig(t.https.caFile), { ns: agent }) : undefined;
    if (bb) await delay(500);
    try {
      for (const c of CASES) {
        const url = `${base}${c.path}`;
        /** @type {Record<string, HttpsPhases[]>} */
        const tools = {
          'vantage (h1.1)': await probe('vantage', url, '1.1'),
          'vantage (h2)': await probe('vantage', url, '2'),
          'curl -w (h1.1)': await curl(lab, url),
          'got timings (h1.1)': await probe('got', url, '1.1'),
          ...(blackbox ? { blackbox_exporter: await blackboxRuns(lab, url) } : {}),
        };
        raw[c.path] = tools;
        for (const [tool, runs] of Object.entries(tools)) {
          const medians = Object.fromEntries(PHASES.map((p) => [p, median(runs.map((r) => r[p]))]));
          const where = c.phase ? PHASES.filter((p) => (medians[p] ?? 0) > DELAY / 2).join('+') || 'none' : '-';
          // HTTP/2 sends a header block in one HEADERS frame: there the delay truly is before the first byte.
          const expected = c.phase === 'headers' && tool.includes('h2') ? 'firstByte' : c.phase;
          rows.push([
            c.what,
            tool,
            ...PHASES.map((p) => (Number.isFinite(medians[p]) ? fmt(medians[p], 2) : '-')),
            where,
            c.phase ? (where === expected ? 'yes' : 'NO') : '-',
          ]);
          if (c.phase === 'headers') verdicts.push({ injected: c.what, tool, landed: where, expected });
        }
      }
    } finally {
      if (bb) await stopChild(bb.child);
      if (bbDir) removeTempDir(bbDir);
    }
    return {
      title: `https: where each tool puts the lab server's injected ${DELAY} ms (median of ${N}, ms)`,
      sections: [
        {
          headers: ['injected', 'tool', ...PHASES, 'delay landed in', 'right phase'],
          rows,
          notes: [
            'vantage: firstByte = first socket read after the request was written (HTTP/2: the HEADERS frame); ' +
              'headers = until the header block is complete',
            'curl: firstByte = time_starttransfer - time_pretransfer (it has no separate header phase); ' +
              'got: timings.phases (whole ms, firstByte when headers are parsed)',
            'blackbox_exporter: probe_http_duration_seconds phases; processing = until headers are parsed',
            blackbox
              ? `blackbox_exporter ran in the agent namespace on 127.0.0.1:${BLACKBOX_NS_PORT}`
              : BLACKBOX_MISSING,
          ],
        },
      ],
      raw: { ...rounded(raw), verdicts },
    };
  });
}

/**
 * bench/https.mjs's lines in the suite's summary (bench/run.mjs): where the delay inside the
 * header block landed, per tool.
 * @param {NonNullable<Extract<Awaited<ReturnType<typeof run>>, { raw: unknown }>['raw']>} raw
 * @returns {Cell[][]}
 */
export function headline(raw) {
  return raw.verdicts.map((v) => [
    `https: ${v.injected} lands in (${v.tool})`,
    v.landed,
    v.expected,
    'the phase the lab server delays',
  ]);
}

await runStandalone(import.meta.url, run);
