import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, tempConfig } from '../helpers/agent-process.js';
import { openListener, refusedListener } from '../helpers/tcp-servers.js';
import type { Listener } from '../helpers/tcp-servers.js';

let open: Listener;
let refused: Listener;
const agents: AgentProcess[] = [];
const configs: Array<{ remove(): void }> = [];

beforeAll(async () => {
  [open, refused] = await Promise.all([openListener(), refusedListener()]);
});
afterEach(() => {
  for (const a of agents.splice(0)) a.kill();
  for (const c of configs.splice(0)) c.remove();
});
afterAll(async () => {
  await Promise.all([open?.close(), refused?.close()]);
});

const identity = 'agent:\n  id: expo-1\n  region: test-1\n  carrier: c\n  network_type: lab\n';
const ids = 'agent="expo-1",region="test-1",carrier="c",network_type="lab"';

function tcpTarget(name: string, port: number, interval: string, timeout: string): string {
  // Histograms on: 23 series per target, so the scrape is large and has bucket lines to check.
  const check = `{kind: tcp, port: ${port}, interval: ${interval}, timeout: ${timeout}, histograms: true}`;
  return `  - name: ${name}\n    host: 127.0.0.1\n    checks: [${check}]\n`;
}

function startAgent(targets: string): AgentProcess {
  const cfg = tempConfig(`${identity}targets:\n${targets}`);
  configs.push(cfg);
  const agent = AgentProcess.start(['run', '-c', cfg.file, '--listen', '127.0.0.1:0']);
  agents.push(agent);
  return agent;
}

interface Reply {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  text: string;
}

/** GET /metrics with raw bytes (fetch would gunzip behind our back). */
function scrape(port: number, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const zipped = res.headers['content-encoding'] === 'gzip';
        resolve({ headers: res.headers, raw, text: (zipped ? gunzipSync(raw) : raw).toString() });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Series names with labels (values left out: they move between scrapes). */
const seriesOf = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('process_') && !l.startsWith('nodejs_'))
    .map((l) => l.slice(0, l.lastIndexOf(' ')))
    .sort();

function sample(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('/metrics of a running agent', () => {
  it('serves the same series plain and gzipped, in both formats, OpenMetrics ending in # EOF', async () => {
    const agent = startAgent(
      tcpTarget('up', open.port, '200ms', '150ms') + tcpTarget('down', refused.port, '200ms', '150ms'),
    );
    const port = await agent.port();
    await agent.waitForMetrics((b) => b.includes('probe_success{check="down-tcp"') && b.includes('check="up-tcp"'));

    const plain = await scrape(port);
    const gzip = await scrape(port, { 'accept-encoding': 'gzip' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.raw.length).toBeLessThan(plain.raw.length / 3);
    expect(seriesOf(gzip.text)).toEqual(seriesOf(plain.text));
    expect(sample(gzip.text, `probe_success{check="up-tcp",kind="tcp",target="up",ip="127.0.0.1",${ids}}`)).toBe(1);
    expect(gzip.text).toMatch(/^vantage_target_info\{target="down",group="",agent="expo-1"/m);
    expect(gzip.text).toMatch(new RegExp(`^vantage_probe_duration_seconds_bucket\\{le="0.001",${ids},check=`, 'm'));

    const encodings: Array<Record<string, string>> = [{}, { 'accept-encoding': 'gzip' }];
    for (const headers of encodings) {
      const om = await scrape(port, { accept: 'application/openmetrics-text; version=1.0.0', ...headers });
      expect(om.headers['content-type']).toMatch(/^application\/openmetrics-text/);
      expect(om.text.endsWith('\n# EOF\n')).toBe(true);
      expect(om.text.match(/# EOF/g)).toHaveLength(1);
      expect(om.text).not.toContain('\n\n');
      expect(om.text).toContain('# TYPE vantage_check_runs counter\n');
      expect(seriesOf(om.text.replace('# EOF\n', ''))).toEqual(seriesOf(plain.text));
    }
    // prom-client's OpenMetrics render used to rename counters for good: text keeps _total after it.
    expect((await scrape(port)).text).toContain('# TYPE vantage_check_runs_total counter\n');
  });

  // The bound is generous (a busy shared machine); how long a scrape holds the loop is
  // bench/metrics-exposition.mjs's business. A scrape rendered in one go at this size holds the
  // loop for several hundred milliseconds, and the 100 ms check starts that much late.
  it('scrapes ~70,000 series while a check runs every 100 ms, and no run starts 250 ms late', async () => {
    // Answered checks: no problem event per run to log.
    const many = Array.from({ length: 3_000 }, (_, i) => tcpTarget(`t${i}`, open.port, '10s', '1s')).join('');
    const agent = startAgent(tcpTarget('fast', open.port, '100ms', '90ms') + many);
    const port = await agent.port();
    const full = await agent.waitForMetrics((b) => (b.match(/^probe_success\{/gm) ?? []).length >= 3_001, 40_000);
    expect(seriesOf(full).length).toBeGreaterThan(65_000);

    const lag = (text: string) => ({
      late:
        sample(text, 'vantage_scheduler_lag_seconds_count{') -
        sample(text, 'vantage_scheduler_lag_seconds_bucket{le="0.25"'),
      fastRuns: sample(
        text,
        'vantage_check_runs_total{check="fast-tcp",kind="tcp",target="fast",ip="127.0.0.1",result="success"',
      ),
    });
    const before = lag((await scrape(port)).text);
    const started = Date.now();
    const bodies = await Promise.all([
      scrape(port),
      scrape(port, { 'accept-encoding': 'gzip' }),
      scrape(port, { accept: 'application/openmetrics-text; version=1.0.0', 'accept-encoding': 'gzip' }),
    ]);
    for (let i = 0; i < 3; i++) bodies.push(await scrape(port, { 'accept-encoding': 'gzip' }));
    const after = lag((await scrape(port)).text);
    const elapsed = Date.now() - started;

    for (const body of bodies) expect(seriesOf(body.text).length).toBeGreaterThan(65_000);
    expect(after.late - before.late).toBe(0);
    // The fast check kept running through the scrapes (at least half its slots: a generous bound).
    expect(after.fastRuns - before.fastRuns).toBeGreaterThanOrEqual(Math.floor(elapsed / 100 / 2));
  }, 90_000);
});
