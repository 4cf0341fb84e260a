// HTTPS phase accuracy against the lab web server's injected delays, side by side in the same run:
// Vantage's client, curl -w, got's own timings and blackbox_exporter's http module, all from the
// agent namespace. Shows where each tool puts a delay before the first byte, inside the header
// block and inside the body. Needs root (the lab); every lab is removed in finally and on signals.
import { join } from 'node:path';
import { execFileP, loadLab, must, toolMissing, withLab, withLabCleanup } from './labkit.mjs';
import {
  delay,
  fmt,
  makeTempDir,
  median,
  removeTempDir,
  ROOT,
  rounded,
  runStandalone,
  spawnTracked,
  stopChild,
} from './lib.mjs';
import { writeFileSync } from 'node:fs';

const N = 10;
const DELAY = 150;
const CASES = [
  { path: '/', what: 'no delay', phase: null },
  { path: `/ttfb/${DELAY}`, what: `${DELAY} ms before the first byte`, phase: 'firstByte' },
  { path: `/headers/${DELAY}`, what: `${DELAY} ms inside the header block`, phase: 'headers' },
  { path: `/body/${DELAY}`, what: `${DELAY} ms inside the body`, phase: 'transfer' },
];
const PHASES = ['connect', 'tls', 'request', 'firstByte', 'headers', 'transfer'];

export async function run() {
  const loaded = await loadLab();
  if (loaded.skipped) return { title: 'https: skipped', notes: [loaded.skipped] };
  const blackbox = !(await toolMissing(['prometheus-blackbox-exporter', '--version']));
  return withLabCleanup(() =>
    withLab(loaded.Lab, {}, async (lab) => {
      const t = lab.truth;
      const agent = t.namespaces.agent;
      const base = `https://${t.https.name}`;
      const rows = [];
      const raw = {};
      const verdicts = [];
      const probe = async (tool, url, version) => {
        const { stdout } = await execFileP(
          'ip',
          [
            'netns',
            'exec',
            agent,
            process.execPath,
            join(ROOT, 'bench', '_https-probe.mjs'),
            tool,
            url,
            t.https.v4,
            t.https.caFile,
            String(N),
            version,
          ],
          { timeout: 120_000 },
        );
        return JSON.parse(stdout);
      };
      const curl = async (url) => {
        const out = [];
        for (let i = 0; i < N; i++) {
          const w = await must(lab, agent, [
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
          const [connect, app, pre, start, total] = w
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
      };
      let bb;
      let bbDir;
      if (blackbox) {
        bbDir = makeTempDir('vantage-bench-bb-');
        writeFileSync(
          join(bbDir, 'bb.yml'),
          `modules:\n  http_lab:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n      tls_config:\n        ca_file: ${t.https.caFile}\n`,
        );
        bb = spawnTracked('ip', [
          'netns',
          'exec',
          agent,
          'prometheus-blackbox-exporter',
          `--config.file=${join(bbDir, 'bb.yml')}`,
          '--web.listen-address=127.0.0.1:9115',
        ]);
        await delay(500);
      }
      const blackboxRuns = async (url) => {
        const out = [];
        for (let i = 0; i < N; i++) {
          const body = await must(lab, agent, [
            'curl',
            '-s',
            `http://127.0.0.1:9115/probe?module=http_lab&target=${encodeURIComponent(url)}`,
          ]);
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
      };
      try {
        for (const c of CASES) {
          const url = `${base}${c.path}`;
          const tools = {
            'vantage (h1.1)': await probe('vantage', url, '1.1'),
            'vantage (h2)': await probe('vantage', url, '2'),
            'curl -w (h1.1)': await curl(url),
            'got timings (h1.1)': await probe('got', url, '1.1'),
            ...(blackbox ? { blackbox_exporter: await blackboxRuns(url) } : {}),
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
        if (bb) await stopChild(bb);
        if (bbDir) removeTempDir(bbDir);
      }
      return {
        title: `https: where each tool puts the lab server's injected ${DELAY} ms (median of ${N}, ms)`,
        sections: [
          {
            headers: ['injected', 'tool', ...PHASES, 'delay landed in', 'right phase'],
            rows,
            notes: [
              'vantage: firstByte = first socket read after the request was written (HTTP/2: the HEADERS frame); headers = until the header block is complete',
              'curl: firstByte = time_starttransfer - time_pretransfer (it has no separate header phase); got: timings.phases (whole ms, firstByte when headers are parsed)',
              'blackbox_exporter: probe_http_duration_seconds phases; processing = until headers are parsed',
              blackbox
                ? 'blackbox_exporter ran in the agent namespace on 127.0.0.1:9115'
                : 'blackbox_exporter not installed (apt-get install prometheus-blackbox-exporter)',
            ],
          },
        ],
        raw: { ...rounded(raw), verdicts },
      };
    }),
  );
}

await runStandalone(import.meta.url, run);
