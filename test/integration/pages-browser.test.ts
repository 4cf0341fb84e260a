import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import type { CheckResult } from '../../src/checks/check.js';
import { builtinRegistry } from '../../src/checks/registry.js';
import { systemClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_HISTORY_SETTINGS } from '../../src/history/history-settings.js';
import { HistoryStore } from '../../src/history/history-store.js';
import { createLogger } from '../../src/log.js';
import { MetricRegistries } from '../../src/metrics/registries.js';
import { systemNet } from '../../src/net/system-net.js';
import { servePage } from '../../src/pages/pages.js';
import type { StatusSource } from '../../src/pages/status-source.js';
import { startMetricsServer } from '../../src/web/server.js';
import { PLAIN_WEB_CONFIG } from '../../src/web/web-config-shape.js';
import type { MetricsServer } from '../../src/web/server.js';
import { BIN } from '../helpers/agent-process.js';
import { makeWebCerts } from '../helpers/web-certs.js';
import type { WebCerts } from '../helpers/web-certs.js';

/** Screenshots land here (VANTAGE_ARTEFACTS overrides): test output, not part of the tree. */
const ARTEFACTS = process.env.VANTAGE_ARTEFACTS ?? join(tmpdir(), 'vantage-artefacts', 'pages');
const registry = builtinRegistry();
const HTTPS_PHASES = { dns: 0, connect: 10, tls: 20, request: 1, firstByte: 40, headers: 2, transfer: 12, total: 85 };
const RUNS = 24;

let browser: Browser;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  mkdirSync(ARTEFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await browser?.close();
});

/** A page that records what must not happen: console errors, failed requests, error statuses. */
async function watchedPage(width = 1280, height = 800): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => void (r.status() >= 400 && problems.push(`status ${r.status()}: ${r.url()}`)));
  cleanups.push(() => context.close());
  return { page, problems };
}

describe('status pages over a history with known values', () => {
  let server: MetricsServer;
  let base: string;
  let source: StatusSource;

  beforeAll(async () => {
    const config = parseConfig(
      'cfg.yaml',
      `agent: {id: vp-1, region: eu-west, carrier: "A&B <x>"}
diagnose_endpoint: {enabled: true}
targets:
  - name: web
    url: https://web.example/
    checks: [{kind: icmp}, {kind: https}, {kind: traceroute}]
  - name: idle
    host: 198.18.0.99
    checks: [{kind: tcp, port: 443}]
`,
      { registry, env: {}, hostname: 'h' },
    );
    const history = new HistoryStore(
      { ...DEFAULT_HISTORY_SETTINGS, samples: 100 },
      (kind) => registry.get(kind)?.phases ?? [],
    );
    history.retain(config.checks);
    const [icmp, https, trace] = config.checks;
    const t0 = Date.UTC(2026, 11, 5, 8, 0, 0);
    const at = (i: number): string => new Date(t0 + i * 30_000).toISOString();
    for (let i = 0; i < RUNS; i++) {
      const lost = i === 7;
      history.record(icmp!, [
        {
          ...core('web-icmp', 'icmp', at(i), !lost),
          ...(lost ? { error: { code: 'ICMP_NO_REPLY', message: 'no reply <script>', phase: 'ping' } } : {}),
          loss: lost ? 1 : (i % 4) / 10,
          rttMs: lost ? null : { min: 10 + i, median: 12 + i, max: 20 + i, avg: 13 + i, stddev: 2 },
        } as CheckResult,
      ]);
    }
    history.record(https!, [{ ...core('web-https', 'https', at(RUNS), true), phasesMs: HTTPS_PHASES }]);
    const hops = [
      { ttl: 1, addresses: ['198.18.0.254'], rttMs: [0.4], loss: 0 },
      { ttl: 2, addresses: [], rttMs: [], loss: 1 },
      { ttl: 3, addresses: ['198.18.0.10'], rttMs: [11], loss: 0 },
    ];
    for (const [i, hash] of [
      [3, 'a'],
      [15, 'b'],
    ] as const)
      history.record(trace!, [
        { ...core('web-traceroute', 'traceroute', at(i), true), hops, routeHash: hash, reached: true } as CheckResult,
      ]);
    source = {
      config: () => config,
      configState: () => ({ appliedAt: t0, rejected: ['cfg.yaml:3:5: targets[0].name: <b>bad</b>'], rejectedAt: t0 }),
      egressIp: () => '203.0.113.7',
      history: (name) => history.target(name),
      quality: () => undefined,
      rank: (name) => (name === 'web' ? [{ set: 'eu', rank: 1, of: 2 }] : []),
      wallMs: () => t0 + RUNS * 30_000,
      version: 'test',
    };
    server = await startMetricsServer({
      registries: new MetricRegistries(),
      listen: { host: '127.0.0.1', port: 0 },
      isReady: () => true,
      pages: (path) => servePage(source, path),
    });
    cleanups.push(() => server.close());
    base = `http://127.0.0.1:${server.address.port}`;
  });

  it('/ shows identity, egress, the rejected config, every target with its last result, escaped', async () => {
    const { page, problems } = await watchedPage();
    await page.goto(`${base}/`);
    await page.screenshot({ path: join(ARTEFACTS, 'status-1280.png'), fullPage: true });
    const text = await page.locator('body').innerText();
    expect(text).toContain('vp-1');
    expect(text).toContain('carrier A&B <x>');
    expect(text).toContain('203.0.113.7');
    expect(await page.locator('#rejected li').innerText()).toBe('cfg.yaml:3:5: targets[0].name: <b>bad</b>');
    expect(await page.locator('script').count()).toBe(1);
    const rows = page.locator('table.targets tbody tr');
    expect(await rows.count()).toBe(4);
    expect(text).toContain('1 of 2 in eu');
    expect(await page.locator('a.diagnose').count()).toBe(2);
    expect(text).toMatch(/idle-tcp\s+tcp\s+-\s+no run yet/);
    expect(problems).toEqual([]);
  });

  it('/targets/web: a point per run, loss as colour, route changes, waterfall proportional, path with *', async () => {
    const { page, problems } = await watchedPage();
    await page.goto(`${base}/targets/web`);
    await page.screenshot({ path: join(ARTEFACTS, 'target-1280.png'), fullPage: true });
    await page.screenshot({ path: join(ARTEFACTS, 'target-1280x800.png') });
    const chart = page
      .locator('section.ip', { has: page.locator('h3, svg.rtt-chart') })
      .first()
      .locator('svg.rtt-chart');
    expect(await chart.locator('g.pt').count()).toBe(RUNS);
    expect(await chart.locator('g.pt.lost').count()).toBe(1);
    expect(await chart.locator('line.route-change').count()).toBe(1);
    const table = page.locator('section.ip').first().locator('details.data tbody tr');
    expect(await table.count()).toBe(RUNS);
    // Dots of lossless runs are green, the 30 % loss runs are orange-red bands.
    const fills = await chart.locator('g.pt circle').evaluateAll((els) => els.map((e) => e.getAttribute('fill')));
    expect(fills[0]).toBe('#1a7f37');
    expect(new Set(fills).size).toBeGreaterThan(2);

    const segs = await page.locator('svg.waterfall rect.seg').evaluateAll((els) =>
      els.map((e) => ({
        phase: e.getAttribute('data-phase')!,
        ms: Number(e.getAttribute('data-ms')),
        width: e.getBoundingClientRect().width,
        x: e.getBoundingClientRect().x,
      })),
    );
    const shown = Object.entries(HTTPS_PHASES).filter(([p]) => p !== 'total');
    expect(segs.map((s) => s.phase)).toEqual(shown.map(([p]) => p));
    const perMs = segs[segs.length - 1]!.width / segs[segs.length - 1]!.ms;
    for (const s of segs) expect(s.width).toBeCloseTo(s.ms * perMs, 1);
    for (let i = 1; i < segs.length; i++) expect(segs[i]!.x).toBeCloseTo(segs[i - 1]!.x + segs[i - 1]!.width, 1);

    const path = await page.locator('table.path tbody tr').allInnerTexts();
    expect(path.map((r) => r.split('\t')[1])).toEqual(['198.18.0.254', '*', '198.18.0.10']);
    expect(problems).toEqual([]);
  });

  it('is readable at phone width: nothing wider than the screen but scrolling tables', async () => {
    const { page, problems } = await watchedPage(390, 844);
    for (const path of ['/', '/targets/web']) {
      await page.goto(`${base}${path}`);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await page.screenshot({ path: join(ARTEFACTS, 'target-390.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("sits behind the endpoints' basic auth: 401 without credentials, the page with them", async () => {
    const authed = await startMetricsServer({
      registries: new MetricRegistries(),
      listen: { host: '127.0.0.1', port: 0 },
      isReady: () => true,
      pages: (path) => servePage(source, path),
      webConfig: () => ({ ...PLAIN_WEB_CONFIG, users: new Map([['support', bcrypt.hashSync('s3cret', 4)]]) }),
    });
    cleanups.push(() => authed.close());
    const url = `http://127.0.0.1:${authed.address.port}`;
    for (const path of ['/', '/targets/web']) expect((await fetch(`${url}${path}`)).status, path).toBe(401);
    const context = await browser.newContext({ httpCredentials: { username: 'support', password: 's3cret' } });
    cleanups.push(() => context.close());
    const page = await context.newPage();
    expect((await page.goto(`${url}/targets/web`))?.status()).toBe(200);
    expect(await page.locator('svg.rtt-chart').count()).toBeGreaterThan(0);
  });

  it('an unknown target is 404 with a page, not an error', async () => {
    const res = await fetch(`${base}/targets/nope%3Cb%3E`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('no target named &quot;nope&lt;b&gt;&quot;');
  });
});

describe('a real agent: Diagnose from the page; vantage diagnose --html offline', () => {
  let certs: WebCerts;
  let tls: Server;
  let dir: string;

  beforeAll(async () => {
    certs = makeWebCerts();
    dir = mkdtempSync(join(tmpdir(), 'vantage-pages-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => rmSync(certs.dir, { recursive: true, force: true }));
    tls = createServer({ cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) }, (_req, res) =>
      res.end('hello\n'),
    );
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => tls.close(resolve)));
  });

  it('Diagnose shows progress, then the report with its pictures, and copies it as text', async () => {
    const port = (tls.address() as AddressInfo).port;
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      `agent: {id: page-test}
diagnose_endpoint: {enabled: true, count: 1}
targets:
  - name: local
    url: https://127.0.0.1:${port}/
    checks: [{kind: https, interval: 1s, timeout: 900ms, ca_file: ${certs.ca}}]
`,
    );
    const net = systemNet(systemClock);
    const agent = new Agent({
      configFile: file,
      listen: { host: '127.0.0.1', port: 0 },
      registry,
      net,
      clock: systemClock,
      log: createLogger('error'),
      watch: false,
    });
    const address = await agent.start();
    cleanups.push(() => agent.stop(2_000));
    const { page, problems } = await watchedPage();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto(`http://127.0.0.1:${address.port}/targets/local`);
    // The agent's own runs (1 s apart) fill the chart; the page is made per request.
    await expect
      .poll(async () => (await page.reload()) && page.locator('svg.rtt-chart g.pt').count(), { timeout: 5_000 })
      .toBeGreaterThanOrEqual(2);
    // The report may finish before a poll could see the progress bar: a DOM observer notes it instead.
    await page.evaluate(`new MutationObserver(() => {
      if (document.querySelector('#diagnosis progress')) window.sawProgress = true;
    }).observe(document.getElementById('diagnosis'), { childList: true, subtree: true })`);
    await page.click('a.diagnose');
    await page.locator('#diagnosis section.report').waitFor({ timeout: 20_000 });
    expect(await page.evaluate('window.sawProgress')).toBe(true);
    const report = await page.locator('#diagnosis').innerText();
    expect(report).toMatch(/HTTPS 200 in \d+ ms via 127\.0\.0\.1/);
    expect(await page.locator('#diagnosis svg.waterfall rect.seg').count()).toBeGreaterThanOrEqual(4);
    await page.click('#diagnosis button.copy');
    await expect.poll(() => page.locator('#diagnosis button.copy').innerText()).toBe('Copied');
    const copied = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(copied).toContain('== https://127.0.0.1:');
    await page.screenshot({ path: join(ARTEFACTS, 'diagnose-1280.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('the --html report opens from a file with the network off and asks for nothing', async () => {
    const port = (tls.address() as AddressInfo).port;
    const out = join(dir, 'report.html');
    await promisify(execFile)(process.execPath, [
      BIN,
      'diagnose',
      `https://127.0.0.1:${port}/`,
      '--html',
      out,
      '--count',
      '1',
      '--ca-file',
      certs.ca,
    ]).catch((err: { code?: number }) => {
      // Exit 1 says some step failed (a finding, still a report); anything else is a broken run.
      if (err.code !== 1) throw err;
    });
    const { page, problems } = await watchedPage();
    await page.context().setOffline(true);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${out}`);
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    expect(await page.locator('section.report svg.waterfall rect.seg').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('pre.report-text').textContent()).toContain('HTTPS 200');
    await page.screenshot({ path: join(ARTEFACTS, 'report-file.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});

function core(check: string, kind: string, startedAt: string, ok: boolean): CheckResult {
  return {
    check,
    kind,
    target: 'web',
    ip: '198.18.0.10',
    ok,
    error: null,
    startedAt,
    durationMs: 30,
    phasesMs: {},
  };
}
