// @ts-check
// Time to a support report in the lab: `vantage diagnose` on the partly silent name (7 addresses,
// the first silent, 4 of them silent) against what a support engineer would script with the
// classic tools in the same namespace and run: dig A and AAAA, ping every address (in parallel),
// traceroute -I the first three silent IPv4 addresses (in parallel). Same count, per-probe wait and
// trace limits for both. Needs root (the lab); the lab is removed in finally and on signals.
import { VANTAGE_BIN } from './lib/dist.mjs';
import { inDefaultLab, must } from './lib/lab.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { rounded, summarize } from './lib/stats.mjs';
import { statCells } from './lib/table.mjs';

/** @import { Lab } from './lib/lab.mjs' */
/** @import { Cell } from './lib/table.mjs' */

const RUNS = 3;
const COUNT = 3;

/**
 * What either way found: the silent IPs, those it traced, and the hop the path ends at.
 * @typedef {{ silent: string[], traced: string[], lastHop: number | undefined }} Findings
 */

/**
 * `vantage diagnose NAME --json` in the agent namespace.
 * @param {Lab} lab
 * @param {string} name
 * @returns {Promise<Findings>}
 */
async function ours(lab, name) {
  const r = await lab.exec(
    lab.truth.namespaces.agent,
    [process.execPath, VANTAGE_BIN, 'diagnose', name, '--json', '--count', String(COUNT), '--timeout', '5s'],
    { timeoutMs: 60_000 },
  );
  /**
   * The report's first target, as far as it is read here.
   * @type {{ ping: { ip: string, ok: boolean, traceroute?: { lastRespondingHop: number } }[] }}
   */
  const target = JSON.parse(r.stdout).targets[0];
  return {
    silent: target.ping.filter((p) => !p.ok).map((p) => p.ip),
    traced: target.ping.filter((p) => p.traceroute).map((p) => p.ip),
    lastHop: target.ping.find((p) => p.traceroute)?.traceroute?.lastRespondingHop,
  };
}

/**
 * The classic tools, as a support engineer would script them: dig, ping every IP, traceroute -I
 * the first three silent IPv4 addresses.
 * @param {Lab} lab
 * @param {string} name
 * @returns {Promise<Findings>}
 */
async function classic(lab, name) {
  /** @type {string} */
  const agent = lab.truth.namespaces.agent;
  const [a = '', aaaa = ''] = await Promise.all(
    ['A', 'AAAA'].map((type) => must(lab, agent, ['dig', '+short', '+tries=1', '+time=2', name, type])),
  );
  const ips = [...a.trim().split('\n'), ...aaaa.trim().split('\n')].filter(Boolean);
  const pings = await Promise.all(
    ips.map(async (ip) => ({
      ip,
      r: await lab.exec(agent, ['ping', '-n', '-q', '-c', String(COUNT), '-i', '0.1', '-W', '1', ip], {
        timeoutMs: 30_000,
      }),
    })),
  );
  const silentIps = pings.filter((p) => p.r.code !== 0).map((p) => p.ip);
  const toTrace = silentIps.filter((ip) => !ip.includes(':')).slice(0, 3);
  const traces = await Promise.all(
    toTrace.map((ip) =>
      must(lab, agent, ['traceroute', '-I', '-n', '-q', '2', '-w', '1', '-m', '30', ip], { timeoutMs: 120_000 }),
    ),
  );
  const lastHop = Math.max(
    ...(traces[0] ?? '')
      .trim()
      .split('\n')
      .slice(1)
      .filter((l) => /\d+\.\d+\.\d+\.\d+/.test(l))
      .map((l) => Number(l.trim().split(/\s+/)[0])),
  );
  return { silent: silentIps, traced: toTrace, lastHop };
}

export async function run() {
  return inDefaultLab('diagnose', ['dig', 'ping', 'traceroute'], async (lab) => {
    const t = lab.truth;
    const name = `partial.${t.dns.zone}`;
    const silent = new Set(t.hosts.silent.flatMap((/** @type {{ v4: string, v6: string }} */ h) => [h.v4, h.v6]));
    /** @type {string[]} */
    const expectedTraced = t.dns.records[name].a.filter((/** @type {string} */ ip) => silent.has(ip)).slice(0, 3);

    /** @type {Cell[][]} */
    const rows = [];
    /** @type {Record<string, { ms: number, out: Findings }[]>} */
    const raw = {};
    /** @type {[string, (lab: Lab, name: string) => Promise<Findings>][]} */
    const ways = [
      ['vantage diagnose', ours],
      ['dig + ping + traceroute -I (parallel)', classic],
    ];
    for (const [tool, fn] of ways) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const out = await fn(lab, name);
        runs.push({ ms: performance.now() - t0, out });
      }
      const s = summarize(runs.map((r) => r.ms));
      const last = runs[runs.length - 1]?.out;
      const right = runs.every(
        (r) => JSON.stringify(r.out.traced) === JSON.stringify(expectedTraced) && r.out.lastHop === t.hops.length,
      );
      raw[tool] = runs;
      rows.push([
        tool,
        String(RUNS),
        ...statCells(s, ['min', 'p50', 'max'], 0),
        String(last?.silent.length),
        last?.traced.join(' '),
        String(last?.lastHop),
        right ? 'yes' : 'NO',
      ]);
    }
    const records = t.dns.records[name];
    return {
      title: 'diagnose: time to a support report for a partly silent name in the lab (same run, agent namespace)',
      sections: [
        {
          headers: [
            'tool',
            'runs',
            'min ms',
            'median ms',
            'max ms',
            'silent IPs',
            'traced',
            'path ends at hop',
            'matches truth',
          ],
          rows,
          notes: [
            `${name}: ${records.a.length} A + ${records.aaaa.length} AAAA, first A silent; ` +
              `truth: trace ${expectedTraced.join(' ')}, path ends at hop ${t.hops.length}`,
            `both: ${COUNT} echo requests per IP 100 ms apart, 1 s per-probe wait, traces of at most 3 silent ` +
              'IPv4 addresses, 2 probes per hop, 30 hops',
            'vantage includes process start-up (~0.4 s) and the NXDOMAIN-rewrite hijack probe; ' +
              'the classic script has no hijack check and no verdict',
          ],
        },
      ],
      raw: rounded(raw),
    };
  });
}

await runStandalone(import.meta.url, run);
