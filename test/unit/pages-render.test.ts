import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/check.js';
import { builtinRegistry } from '../../src/checks/registry.js';
import { parseConfig } from '../../src/config/load.js';
import type { DiagnosisReport } from '../../src/diagnose/report.js';
import { DEFAULT_HISTORY_SETTINGS } from '../../src/history/history-settings.js';
import { HistoryStore } from '../../src/history/history-store.js';
import { diagnosisDocument } from '../../src/pages/diagnosis-html.js';
import { esc } from '../../src/pages/html.js';
import { servePage } from '../../src/pages/pages.js';
import type { StatusSource } from '../../src/pages/status-source.js';

const HOSTILE = `<script>alert("x")</script>&'`;
const registry = builtinRegistry();

describe('status pages escape what they did not write', () => {
  const config = parseConfig(
    'cfg.yaml',
    `agent: {id: a1, carrier: '${HOSTILE.replace(/'/g, "''")}'}\n` +
      'targets:\n  - {name: web, host: 198.18.0.1, checks: [{kind: tcp, port: 443}]}\n',
    { registry, env: {}, hostname: 'h' },
  );
  const history = new HistoryStore(
    { ...DEFAULT_HISTORY_SETTINGS, samples: 5 },
    (kind) => registry.get(kind)?.phases ?? [],
  );
  const failed: CheckResult = {
    check: 'web-tcp',
    kind: 'tcp',
    target: 'web',
    ip: '198.18.0.1',
    ok: false,
    error: { code: 'TCP_REFUSED', message: HOSTILE, phase: 'connect' },
    startedAt: '2026-12-05T08:00:00.000Z',
    durationMs: 1,
    phasesMs: { resolve: 0, connect: 1 },
  };
  history.record(config.checks[0]!, [failed]);
  const source: StatusSource = {
    config: () => config,
    configState: () => ({ rejected: [HOSTILE] }),
    egressIp: () => HOSTILE,
    history: (t) => history.target(t),
    quality: () => undefined,
    wallMs: () => 0,
    version: HOSTILE,
  };

  it.each(['/', '/targets/web', `/targets/${encodeURIComponent(HOSTILE)}`])('%s', (path) => {
    const body = servePage(source, path)!.body;
    // Our one inline script aside, no tag the hostile text opens survives.
    expect(body.replace(/<script>[\s\S]*?<\/script>\n<\/body>/, '')).not.toMatch(/<script>alert/);
    expect(body.includes(esc(HOSTILE)) || path.startsWith('/targets/%')).toBe(true);
  });

  it('leaves other paths to the server', () => {
    expect(servePage(source, '/metrics')).toBeUndefined();
    expect(servePage(source, '/targets/%E0%A4%A')?.status).toBe(404);
  });

  it('the HTML report escapes answers, messages and identity', () => {
    const report: DiagnosisReport = {
      time: { utc: '2026-12-05T08:00:00.000Z', local: HOSTILE },
      agent: config.agent,
      egress: { public: [{ url: 'https://echo.example/', address: null, error: HOSTILE }], interfaces: [] },
      targets: [{ target: HOSTILE, verdict: HOSTILE, dns: [], ping: [], traceroute: [], https: [failed] }],
    };
    const html = diagnosisDocument(report);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain(esc(HOSTILE));
  });
});
