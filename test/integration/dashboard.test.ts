import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { run } from '../lab/shell.js';
import { catalogue, groupingLabels, promqlMetricNames } from '../helpers/promql.js';

const FILE = resolve('deploy/grafana/vantage-overview.json');
const BUILDER = resolve('deploy/grafana/build-dashboard.mjs');

interface Target {
  refId: string;
  expr: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
  annotations: { list: Array<{ name: string; expr: string }> };
}

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;
const dir = mkdtempSync(join(tmpdir(), 'vantage-dashboard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every PromQL query of the dashboard, named by where it is. */
function queries(): Array<{ where: string; expr: string }> {
  const out = dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr })),
  );
  out.push(...dashboard.annotations.list.map((a) => ({ where: `annotation "${a.name}"`, expr: a.expr })));
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    // label_values(SELECTOR, label): the selector is PromQL.
    out.push({ where: `variable ${v.name}`, expr: /^label_values\((.*),\s*\w+\)$/.exec(q)?.[1] ?? q });
  }
  return out;
}

/** What Grafana puts in place of its variables before the query reaches Prometheus. */
function interpolate(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '2m')
    .replaceAll('$__range', '6h')
    .replace(/\$(\w+)/g, '.*');
}

describe('Grafana dashboard (deploy/grafana)', () => {
  it('is what build-dashboard.mjs makes (edit the builder, then run it)', async () => {
    const r = await run([
      process.execPath,
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(BUILDER)}); process.stdout.write(JSON.stringify(m.dashboard(), null, ` +
        `2) + '\\n');`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(FILE, 'utf8'));
  });

  it('has every query parse in Prometheus (promtool check rules)', async () => {
    const rules = {
      groups: [
        {
          name: 'dashboard',
          rules: queries().map((q, i) => ({ record: `dashboard:query_${i}`, expr: interpolate(q.expr) })),
        },
      ],
    };
    const file = join(dir, 'queries.yaml');
    writeFileSync(file, stringify(rules));
    const r = await run(['promtool', 'check', 'rules', file]);
    expect(r.stdout + r.stderr).toContain(`SUCCESS: ${rules.groups[0]!.rules.length} rules found`);
  });

  it('reads only metrics the agent exports, grouped by labels they have', () => {
    const known = catalogue();
    for (const q of queries()) {
      const names = promqlMetricNames(q.expr);
      expect(
        names.filter((n) => !known.has(n)),
        q.where,
      ).toEqual([]);
      const labels = new Set(names.flatMap((n) => [...known.get(n)!]));
      expect(
        groupingLabels(q.expr).filter((l) => !labels.has(l)),
        q.where,
      ).toEqual([]);
    }
    // Every kind's main figures are on it.
    const read = new Set(queries().flatMap((q) => promqlMetricNames(q.expr)));
    for (const m of [
      'probe_success',
      'probe_dns_lookup_time_seconds',
      'probe_dns_hijack',
      'probe_icmp_rtt_avg_seconds',
      'probe_icmp_loss_ratio',
      'probe_traceroute_hop_count',
      'probe_http_duration_seconds',
      'probe_ssl_earliest_cert_expiry',
      'vantage_check_failures_total',
    ]) {
      expect(read.has(m), m).toBe(true);
    }
  });

  it('uses only variables it defines', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    const used = queries()
      .flatMap((q) => [...q.expr.matchAll(/\$(\w+)/g)].map((m) => m[1]!))
      .filter((v) => !v.startsWith('__'));
    expect(used.filter((v) => !defined.has(v))).toEqual([]);
  });

  it('lays panels out on the 24-column grid without overlaps, with unique ids', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const a of dashboard.panels) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of dashboard.panels) {
        if (a === b) continue;
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        expect(apart, `${a.title} overlaps ${b.title}`).toBe(true);
      }
    }
  });
});
