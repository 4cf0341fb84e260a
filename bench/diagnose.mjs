// Time to a support report in the lab: `vantage diagnose` on the partly silent name (7 addresses,
// the first silent, 4 of them silent) against what a support engineer would script with the
// classic tools in the same namespace and run: dig A and AAAA, ping every address (in parallel),
// traceroute -I the first three silent IPv4 addresses (in parallel). Same count, per-probe wait and
// trace limits for both. Needs root (the lab); the lab is removed in finally and on signals.
import { join } from 'node:path';
import { loadLab, must, toolMissing, withLab, withLabCleanup } from './labkit.mjs';
import { fmt, ROOT, rounded, runStandalone, summarize } from './lib.mjs';

const RUNS = 3;
const COUNT = 3;
const BIN = join(ROOT, 'dist', 'bin', 'vantage.cjs');

async function timed(fn) {
  const t0 = performance.now();
  const out = await fn();
  return { ms: performance.now() - t0, out };
}

export async function run() {
  const loaded = await loadLab();
  if (loaded.skipped) return { title: 'diagnose: skipped', notes: [loaded.skipped] };
  for (const tool of [
    ['dig', '-v'],
    ['ping', '-V'],
    ['traceroute', '--version'],
  ]) {
    const missing = await toolMissing(tool);
    if (missing) return { title: 'diagnose: skipped', notes: [missing] };
  }
  return withLabCleanup(() =>
    withLab(loaded.Lab, {}, async (lab) => {
      const t = lab.truth;
      const agent = t.namespaces.agent;
      const name = `partial.${t.dns.zone}`;
      const silent = new Set(t.hosts.silent.flatMap((h) => [h.v4, h.v6]));
      const expectedTraced = t.dns.records[name].a.filter((ip) => silent.has(ip)).slice(0, 3);

      const ours = async () => {
        const r = await lab.exec(
          agent,
          [process.execPath, BIN, 'diagnose', name, '--json', '--count', String(COUNT), '--timeout', '5s'],
          { timeoutMs: 60_000 },
        );
        const report = JSON.parse(r.stdout);
        const target = report.targets[0];
        return {
          silent: target.ping.filter((p) => !p.ok).map((p) => p.ip),
          traced: target.ping.filter((p) => p.traceroute).map((p) => p.ip),
          lastHop: target.ping.find((p) => p.traceroute)?.traceroute.lastRespondingHop,
        };
      };
      const classic = async () => {
        const [a, aaaa] = await Promise.all(
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
          ...traces[0]
            .trim()
            .split('\n')
            .slice(1)
            .filter((l) => /\d+\.\d+\.\d+\.\d+/.test(l))
            .map((l) => Number(l.trim().split(/\s+/)[0])),
        );
        return { silent: silentIps, traced: toTrace, lastHop };
      };

      const rows = [];
      const raw = {};
      for (const [tool, fn] of [
        ['vantage diagnose', ours],
        ['dig + ping + traceroute -I (parallel)', classic],
      ]) {
        const runs = [];
        for (let i = 0; i < RUNS; i++) runs.push(await timed(fn));
        const s = summarize(runs.map((r) => r.ms));
        const last = runs.at(-1).out;
        const right = runs.every(
          (r) => JSON.stringify(r.out.traced) === JSON.stringify(expectedTraced) && r.out.lastHop === t.hops.length,
        );
        raw[tool] = runs;
        rows.push([
          tool,
          String(RUNS),
          fmt(s.min, 0),
          fmt(s.p50, 0),
          fmt(s.max, 0),
          String(last.silent.length),
          last.traced.join(' '),
          String(last.lastHop),
          right ? 'yes' : 'NO',
        ]);
      }
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
              `${name}: ${t.dns.records[name].a.length} A + ${t.dns.records[name].aaaa.length} AAAA, first A silent; truth: trace ${expectedTraced.join(' ')}, path ends at hop ${t.hops.length}`,
              `both: ${COUNT} echo requests per IP 100 ms apart, 1 s per-probe wait, traces of at most 3 silent IPv4 addresses, 2 probes per hop, 30 hops`,
              'vantage includes process start-up (~0.4 s) and the NXDOMAIN-rewrite hijack probe; the classic script has no hijack check and no verdict',
            ],
          },
        ],
        raw: rounded(raw),
      };
    }),
  );
}

await runStandalone(import.meta.url, run);
