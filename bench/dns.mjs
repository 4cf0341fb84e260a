// DNS query timing against the lab's authoritative server, ours next to dig's from the same
// namespace in the same run: a fast name (path only) and the slow name (known server delay), over
// UDP and TCP, plus DoT and DoH (ours only: dig has no DoT/DoH). The aim: the delayed name
// timed within 1 ms of its delay. Needs root (the lab); every lab is removed in finally and on signals.
import { join } from 'node:path';
import { execFileP, loadLab, must, toolMissing, withLab, withLabCleanup } from './labkit.mjs';
import { fmt, ROOT, rounded, runStandalone, summarize } from './lib.mjs';

const QUERIES = 30;

function digTimes(out) {
  return [...out.matchAll(/Query time: (\d+) msec/g)].map((m) => Number(m[1]));
}

export async function run() {
  const loaded = await loadLab();
  if (loaded.skipped) return { title: 'dns: skipped', notes: [loaded.skipped] };
  const digMissing = await toolMissing(['dig', '-v']);
  return withLabCleanup(() =>
    withLab(loaded.Lab, {}, async (lab) => {
      const t = lab.truth;
      const agent = t.namespaces.agent;
      const auth = t.dns.auth.v4;
      const ours = async (transport, port, name, extra = []) => {
        const { stdout } = await execFileP(
          'ip',
          [
            'netns',
            'exec',
            agent,
            process.execPath,
            join(ROOT, 'bench', '_dns-probe.mjs'),
            transport,
            auth,
            String(port),
            name,
            String(QUERIES),
            ...extra,
          ],
          { timeout: 120_000 },
        );
        return JSON.parse(stdout);
      };
      const dig = async (tcp, name) => {
        if (digMissing) return undefined;
        const args = ['dig', '+tries=1', '+time=2', ...(tcp ? ['+tcp'] : []), `@${auth}`, name];
        const times = [];
        for (let i = 0; i < QUERIES; i++) times.push(...digTimes(await must(lab, agent, args)));
        return times;
      };
      const rows = [];
      const raw = {};
      const fast = `web.${t.dns.zone}`;
      const slow = t.dns.slowName;
      for (const [transport, port, extra] of [
        ['udp', 53, []],
        ['tcp', 53, []],
        ['tls', t.dns.dotPort, [t.dns.tlsName, t.https.caFile]],
        ['https', 443, [t.dns.tlsName, t.https.caFile]],
      ]) {
        for (const name of [fast, slow]) {
          const o = await ours(transport, port, name, extra);
          const s = summarize(o.times);
          const digged = transport === 'udp' || transport === 'tcp' ? await dig(transport === 'tcp', name) : undefined;
          const d = digged ? summarize(digged) : undefined;
          const delay = name === slow ? t.dns.slowDelayMs : 0;
          raw[`${transport} ${name}`] = { ours: o, dig: digged };
          rows.push([
            transport,
            name === slow ? `slow (${delay} ms)` : 'fast',
            String(o.times.length),
            fmt(s.p50, 3),
            fmt(s.p99, 3),
            fmt(s.p50 - delay, 3),
            d ? fmt(d.p50, 0) : '-',
            d ? fmt(d.p50 - delay, 0) : '-',
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
              `${QUERIES} queries each, sequential; ours = the record's request phase (monotonic stamps around send and receive; tcp/tls/https exclude connect and TLS), dig = its Query time (whole ms)`,
              "the slow name is delayed by the lab server's setTimeout (about +1 ms late); the path adds ~0.1-0.2 ms",
            ],
          },
        ],
        raw: rounded(raw),
      };
    }),
  );
}

await runStandalone(import.meta.url, run);
